// picomatch ships no types and @types/picomatch is not installed; this is the part devenv uses.
declare module 'picomatch' {
  interface PicomatchOptions {
    dot?: boolean
    basename?: boolean
    nocase?: boolean
  }
  type Matcher = (input: string) => boolean
  function picomatch(glob: string | string[], options?: PicomatchOptions): Matcher
  export default picomatch
}
