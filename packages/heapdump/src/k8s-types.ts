// The plain (resolved) Kubernetes shapes the pure builders work on: @pulumi/kubernetes input types with
// every Input unwrapped, so a user's object literal for a Deployment's pod fits as written.
import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';

type Plain<T> = pulumi.Unwrap<T>;
export type PodSpec = Plain<k8s.types.input.core.v1.PodSpec>;
export type PodTemplateSpec = Plain<k8s.types.input.core.v1.PodTemplateSpec>;
export type ObjectMeta = Plain<k8s.types.input.meta.v1.ObjectMeta>;
export type Container = Plain<k8s.types.input.core.v1.Container>;
export type EnvVar = Plain<k8s.types.input.core.v1.EnvVar>;
export type Probe = Plain<k8s.types.input.core.v1.Probe>;
export type Volume = Plain<k8s.types.input.core.v1.Volume>;
export type VolumeMount = Plain<k8s.types.input.core.v1.VolumeMount>;
export type ResourceRequirements = Plain<k8s.types.input.core.v1.ResourceRequirements>;
export type SecurityContext = Plain<k8s.types.input.core.v1.SecurityContext>;
export type DeploymentSpec = Plain<k8s.types.input.apps.v1.DeploymentSpec>;
