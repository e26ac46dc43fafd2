import { Flags } from '@oclif/core'

/** Flags of every command that may write the hosts file (hosts apply/remove, and up/down). */
export const hostsWriteFlags = {
  'no-sudo': Flags.boolean({
    description: 'never ask for sudo: when the hosts file is not writable, print the command to run instead',
  }),
}
