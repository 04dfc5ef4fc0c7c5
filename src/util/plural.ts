/** A count with its noun in the right number: "1 test", "2 tests", "1 process", "3 processes". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`
