// The daemon's event stream (Server-Sent Events). The browser's EventSource reconnects by itself after a network
// error and continues from its Last-Event-ID; when the daemon restarted, it gets a 'resync' and the page fetches the
// list again. An HTTP error (401 after a restart of a daemon with a password) closes the stream for good: then the
// page probes the daemon itself, backing off to 15 s, and reopens it.

const kinds = ['added', 'metadata_received', 'state_changed', 'finished', 'error', 'removed', 'tracker_error',
  'file_completed', 'updated', 'settings_changed', 'categories_changed', 'tags_changed', 'resync'];

export class EventStream {
  /** handlers: onEvent(kind, data), onStatus('live' | 'reconnecting' | 'down'), onOpen(), onClosed() (returns a promise: may we reopen?) */
  constructor(handlers) {
    this.handlers = handlers;
    this.source = null;
    this.retry = 1000;
    this.timer = 0;
  }

  start() {
    this.stop();
    const source = new EventSource('/api/v1/events');
    this.source = source;
    source.onopen = () => {
      this.retry = 1000;
      this.handlers.onStatus('live');
      this.handlers.onOpen();
    };
    source.onerror = () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) {
        this.handlers.onStatus('down');
        this.source = null;
        this.reopenLater();
      } else {
        this.handlers.onStatus('reconnecting');
      }
    };
    for (const kind of kinds) {
      source.addEventListener(kind, e => {
        let data;
        try { data = JSON.parse(e.data); } catch { return; }
        this.handlers.onEvent(kind, data);
      });
    }
  }

  reopenLater() {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const ok = await this.handlers.onClosed().catch(() => false);
      if (ok) this.start();
      else { this.retry = Math.min(this.retry * 2, 15000); this.reopenLater(); }
    }, this.retry);
  }

  stop() {
    clearTimeout(this.timer);
    this.source?.close();
    this.source = null;
  }
}
