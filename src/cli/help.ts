import { CommandHelp, Help } from '@oclif/core'

/**
 * `devenv halt --help` shows the help of `stop` under the name typed. oclif lists the command's
 * aliases there, `halt` among them, as though halt were an alias of itself: list the other names
 * it goes by instead, the command's own name first.
 */
class NamedCommandHelp extends CommandHelp {
  protected override aliases(aliases: string[] | undefined): string | undefined {
    const typed = this.command.id
    const canonical = this.config.commands.find((command) => command.aliases.includes(typed))?.id
    if (!canonical) return super.aliases(aliases)
    return super.aliases([canonical.replaceAll(':', ' '), ...(aliases ?? []).filter((alias) => alias !== typed)])
  }
}

export default class DevenvHelp extends Help {
  protected override CommandHelpClass = NamedCommandHelp
}
