// Names the heap-dump additions use in a pod: the user's own objects must not collide with them.
import { UPLOADER_DEFAULTS } from '@kube-heapdump/contract';

/** The dump volume. */
export const DUMP_VOLUME = 'heapdumps';
/** The uploader sidecar. */
export const UPLOADER_CONTAINER = 'heapdump-uploader';
/** Where the dump volume is mounted unless `heapDumps.mountPath` says otherwise. */
export const DEFAULT_MOUNT_PATH = UPLOADER_DEFAULTS.dir;
/** Where a user's JAVA_TOOL_OPTIONS from a Secret, ConfigMap or field moves, so ours can reference it. */
export const USER_JAVA_TOOL_OPTIONS = 'HEAPDUMP_APP_JAVA_TOOL_OPTIONS';
/** The projected API token (and CA, namespace) the uploader posts Events with; mounted in the uploader only. */
export const KUBE_API_VOLUME = 'heapdumps-kube-api';
/** The uploader's metrics port name. */
export const METRICS_PORT_NAME = 'hd-metrics';
/** The EKS identity webhook leaves these containers (comma-separated) without AWS credentials. */
export const SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';
/** Label on every object the component creates. */
export const PART_OF_LABEL = { 'app.kubernetes.io/part-of': 'kube-heapdump' } as const;
