/** Wall-clock ms with sub-ms precision, comparable across threads (each has its own timeOrigin). */
export const now = (): number => performance.timeOrigin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
