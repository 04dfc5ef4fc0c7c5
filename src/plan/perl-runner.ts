import { readHead } from '../util/read-head.js'

/** The first line of a file, when it is a `#!` line (TAP::Parser reads no further). */
export function shebangLine(file: string): string | null {
  const text = readHead(file, Buffer.alloc(512))?.toString('latin1') ?? ''
  return text.startsWith('#!') ? (text.split(/\r?\n/, 1)[0] as string) : null
}

/** Splits PERL5OPT into words as Text::ParseWords' shellwords does for TAP::Harness, for the simple cases it meets. */
const words = (text: string): string[] => text.split(/\s+/).filter(Boolean)

/**
 * The argv prove runs a `.t` file with, as TAP::Parser::SourceHandler::Perl builds it: the perl
 * running the harness (HARNESS_PERL if set), then `-T` or `-t` when the `#!` line asks for taint
 * (perl refuses to start otherwise), and under taint PERL5LIB as `-I` switches and PERL5OPT's
 * words, since taint mode ignores both variables. Perl reads every other `#!` switch (`-w`…) itself.
 */
export function perlArgv(file: string, env: Record<string, string | undefined>): string[] {
  const perl = env.HARNESS_PERL || 'perl'
  const taint = /^#!.*\bperl.*\s-\w*([Tt]+)/.exec(shebangLine(file) ?? '')?.[1]
  if (!taint) return [perl, file]
  const libs = (env.PERL5LIB ?? '').split(':').filter(Boolean).map((dir) => `-I${dir}`)
  return [perl, `-${taint}`, ...libs, ...words(env.PERL5OPT ?? ''), file]
}
