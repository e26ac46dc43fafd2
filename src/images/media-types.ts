/** The media types devenv reads and writes, and the platform it runs images for. */
export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const

export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ')

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: { os: string; architecture: string; variant?: string }
  annotations?: Record<string, string>
}

export interface ImageIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
}

export interface ImageManifest {
  schemaVersion: 2
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
}

/** The part of an image's config devenv honours. */
export interface ImageRunConfig {
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  Env?: string[] | null
  WorkingDir?: string
  User?: string
  ExposedPorts?: Record<string, object>
  StopSignal?: string
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number }
}

export interface ImageConfig {
  architecture: string
  os: string
  config?: ImageRunConfig
  rootfs: { type: 'layers'; diff_ids: string[] }
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean }>
  created?: string
}

/** This machine's platform in OCI terms. */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  }
  const architecture = arch[process.arch] ?? process.arch
  return {
    os: process.platform === 'win32' ? 'windows' : process.platform,
    architecture,
    ...(architecture === 'arm64' ? { variant: 'v8' } : {}),
  }
}

/** The manifest of an index meant for this platform (an arm64 entry without a variant matches too). */
export function platformManifest(index: ImageIndex): Descriptor | undefined {
  const want = hostPlatform()
  const candidates = index.manifests.filter(
    (entry) => entry.platform?.os === want.os && entry.platform.architecture === want.architecture,
  )
  return candidates.find((entry) => !want.variant || entry.platform?.variant === want.variant) ?? candidates[0]
}
