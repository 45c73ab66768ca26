/**
 * Returns one shared copy of each distinct string. Scanner reports repeat the same titles, links,
 * paths and versions thousands of times; sharing them keeps large runs small in memory.
 */
export function stringInterner(): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    const shared = seen.get(value);
    if (shared !== undefined) return shared;
    seen.set(value, value);
    return value;
  };
}
