export * from './errors';
export * from './feed';
export * from './ids';
export * from './json-data';
export * from './naming';
export * from './notification';
export * from './socket-events';
export * from './topics';
