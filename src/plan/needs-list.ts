import type { TestNeeds } from './needs.js'

/** A test's needs as --list gives them (nothing in a run that declares none). */
export function listedNeeds(needs: TestNeeds | undefined): { groups?: string[]; weight?: number; serial?: boolean; needs?: string[] } {
  if (!needs) return {}
  return { groups: needs.groups, weight: needs.weight, ...(needs.serial ? { serial: true } : {}), needs: needs.from }
}

/**
 * What a listed test needs, after why it sits where it does: the order is claimed as it is, but a
 * test is passed over while one of its groups is full or the capacity it needs is not free.
 */
export function needsText(t: { needs?: string[] }): string {
  return t.needs?.length ? `; needs ${t.needs.join(', ')}` : ''
}
