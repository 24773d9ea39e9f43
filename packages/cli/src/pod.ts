// The parts of a Kubernetes Pod (core/v1, as `kubectl get pod -o json` prints it) the CLI reads.

export interface EnvVar {
  name: string;
  value?: string;
  /** A Secret, ConfigMap or field reference: the value is not in the spec. */
  valueFrom?: unknown;
}

export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    volumes?: { name: string; emptyDir?: { sizeLimit?: string; medium?: string } }[];
    nodeName?: string;
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}
