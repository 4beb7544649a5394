/** The agent's version, reported in heartbeats. */
export const AGENT_VERSION = '0.1.0';
