import net from 'node:net';

export interface Balancer {
  url: string;
  close(): Promise<void>;
}

/**
 * A minimal loopback TCP load balancer: each connection goes to the first
 * backend that accepts it, so clients land on the first instance and move to
 * the next when it stops accepting (with `spread`, the first tried turns round robin).
 */
export async function startBalancer(backendPorts: number[], options: { spread?: boolean } = {}): Promise<Balancer> {
  const open = new Set<net.Socket>();
  // With `spread`, each connection starts at the next backend (round robin) and falls through from there.
  let next = 0;
  const server = net.createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.pause();
    const first = options.spread ? next++ % backendPorts.length : 0;
    const tryBackend = (index: number) => {
      if (index >= backendPorts.length) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: backendPorts[(first + index) % backendPorts.length]! });
      let connected = false;
      upstream.on('error', () => {
        if (!connected) tryBackend(index + 1);
        else client.destroy();
      });
      upstream.once('connect', () => {
        connected = true;
        open.add(upstream);
        upstream.once('close', () => {
          open.delete(upstream);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
