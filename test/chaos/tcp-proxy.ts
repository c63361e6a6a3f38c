/**
 * A controllable TCP proxy for one directed peer link (node A sends to node B through it). The
 * chaos harness points A's `--peers` entry for B at the proxy, so it can cut, blackhole or slow
 * that direction without touching either process. Cutting A->B makes A's RPCs to B fail while
 * B's RPCs to A (through another proxy) still flow: a one-way partition.
 */
import net from 'node:net';

export type LinkMode =
  | { readonly kind: 'pass' }
  /** Refuse new connections and destroy open ones: the peer looks down. */
  | { readonly kind: 'cut' }
  /** Forward every chunk after `delayMs`: a slow link. */
  | { readonly kind: 'slow'; readonly delayMs: number };

/** Bytes a slow link may hold back per connection before it pauses the sender. */
const slowLinkBufferedBytesMax = 8 * 1024 * 1024;

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private mode: LinkMode = { kind: 'pass' };
  port = 0;

  constructor(readonly name: string, private readonly targetHost: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  setMode(mode: LinkMode): void {
    this.mode = mode;
    if (mode.kind === 'cut') for (const s of this.sockets) s.destroy();
  }

  currentMode(): LinkMode {
    return this.mode;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode.kind === 'cut') {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /**
   * Forwards `from` -> `to` in order. A slow link delays chunks; chunks still held when the link
   * turns fast again stay ahead of newer ones: reordering bytes inside one TCP stream would
   * corrupt HTTP/2 framing (a fault no real network produces), not simulate a slow link.
   */
  private pipe(from: net.Socket, to: net.Socket): void {
    const held: { chunk: Buffer; releaseAt: number }[] = [];
    let heldBytes = 0;
    let timer: NodeJS.Timeout | null = null;
    const write = (chunk: Buffer) => {
      if (to.destroyed) return;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    };
    const release = () => {
      timer = null;
      const now = Date.now();
      while (held.length > 0 && held[0]!.releaseAt <= now) {
        const { chunk } = held.shift()!;
        heldBytes -= chunk.length;
        write(chunk);
      }
      if (heldBytes <= slowLinkBufferedBytesMax && from.isPaused()) from.resume();
      if (held.length > 0) timer = setTimeout(release, Math.max(0, held[0]!.releaseAt - now));
    };
    from.on('close', () => {
      if (timer) clearTimeout(timer);
    });
    from.on('data', (chunk: Buffer) => {
      const mode = this.mode;
      switch (mode.kind) {
        case 'pass':
          if (held.length === 0) write(chunk);
          else {
            held.push({ chunk, releaseAt: held.at(-1)!.releaseAt });
            heldBytes += chunk.length;
          }
          return;
        case 'cut':
          from.destroy();
          return;
        case 'slow': {
          const releaseAt = Math.max(Date.now() + mode.delayMs, held.at(-1)?.releaseAt ?? 0);
          held.push({ chunk, releaseAt });
          heldBytes += chunk.length;
          if (heldBytes > slowLinkBufferedBytesMax) from.pause();
          if (timer === null) timer = setTimeout(release, mode.delayMs);
          return;
        }
        default: {
          const never: never = mode;
          throw new Error(`unknown link mode ${JSON.stringify(never)}`);
        }
      }
    });
  }
}
