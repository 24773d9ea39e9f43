// The environment of a developer running `heapdump` in the tests: their own credential, a HOME of the test's
// and nothing from the machine's AWS config, so only what the test gives reaches the CLI.
export interface DeveloperStore {
  home: string;
  credential: { accessKeyId: string; secretAccessKey: string };
  /** The bucket and endpoint the CLI reads from its environment (as from the uploader's variables). */
  bucket?: string;
  endpoint?: string;
}

export function developerEnv(s: DeveloperStore): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: s.home,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: s.credential.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s.credential.secretAccessKey,
    ...(s.bucket !== undefined ? { HEAPDUMP_BUCKET: s.bucket } : {}),
    ...(s.endpoint !== undefined
      ? { HEAPDUMP_S3_ENDPOINT: s.endpoint, HEAPDUMP_S3_FORCE_PATH_STYLE: 'true' }
      : {}),
  };
}
