import { chromium, type Browser, type Page } from 'playwright-core'
import { onTestFinished } from 'vitest'

/** Debian's Chromium (installed by .ci/run); playwright's own browser download cannot work here. */
export const CHROMIUM = process.env.CLAIMRUN_CHROMIUM ?? '/usr/bin/chromium'

/** A real headless Chromium page that records page errors; closed when the test ends. */
export async function openPage(): Promise<{ page: Page; errors: string[]; browser: Browser }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  onTestFinished(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  return { page, errors, browser }
}
