import { ConfigError, loadConfig } from '../../src/config';

/** The problems loadConfig names for this environment; none when it is accepted. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
