// The picture of a run's timeline in the docs (docs/groups-timeline.png): the timeline card of a
// report.html, drawn by a real headless Chromium (Debian's; CLAIMRUN_CHROMIUM names another).
//   node bench/support/timeline-shot.mjs <out>/report.html docs/groups-timeline.png
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'

const [report, png] = process.argv.slice(2)
if (!report || !png) {
  console.error('usage: node bench/support/timeline-shot.mjs <report.html> <picture.png>')
  process.exit(2)
}
const browser = await chromium.launch({ executablePath: process.env.CLAIMRUN_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  await page.goto(pathToFileURL(resolve(report)).href)
  await page.locator('.timeline').first().locator('xpath=..').screenshot({ path: png })
} finally {
  await browser.close()
}
