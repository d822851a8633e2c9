import { spawnGateway, type GatewayProcess } from './process-gateway';
import type { TestStack } from './stack';
import { startBalancer, type Balancer } from './tcp-balancer';

export interface BalancedGateways {
  a: GatewayProcess;
  b: GatewayProcess;
  /** Clients connect here and land on `a` until it stops accepting, then on `b`. */
  balancer: Balancer;
}

/**
 * Two gateway processes (the real `npm start` entry point) on the stack's
 * Redis and database, behind a loopback TCP balancer; whatever is left
 * running is killed after the file. Filled in by beforeAll.
 */
export function useBalancedGateways(stack: TestStack): BalancedGateways {
  const gateways = {} as BalancedGateways;
  beforeAll(async () => {
    [gateways.a, gateways.b] = await Promise.all([
      spawnGateway({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url }),
      spawnGateway({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url }),
    ]);
    gateways.balancer = await startBalancer([gateways.a.port, gateways.b.port]);
  }, 60_000);
  afterAll(async () => {
    await gateways.balancer?.close();
    for (const g of [gateways.a, gateways.b]) if (g && g.child.exitCode === null) g.child.kill('SIGKILL');
  });
  return gateways;
}
