package io.duet.sync;

/**
 * The replication link to the peer site, as the replication logic sees it: an ordered stream of
 * frames that may go down and come back. Production runs it over mutual TLS on the replication
 * port; tests and the deterministic simulator run it in memory with injected faults. Frames sent
 * while the link is up arrive in order and unmodified, or not at all (the link goes down first).
 */
public interface Transport {

  /**
   * Queues one frame for the peer. Returns false, without blocking, when the link is down or its
   * bounded send queue is full (back-pressure: the caller treats the frame as not sent).
   */
  boolean send(byte[] frame);

  /** Whether the link is up now (a later send may still fail). */
  boolean isUp();

  /** Installs the receiver; frames and link events are delivered to it one at a time, in order. */
  void setReceiver(Receiver receiver);

  /** What a transport delivers. Calls never overlap; implementations must not block long. */
  interface Receiver {
    void onFrame(byte[] frame);

    /** The link came up (again): the peers re-introduce themselves before anything else. */
    void onLinkUp();

    /** The link went down; frames sent before may or may not have arrived. */
    void onLinkDown();
  }
}
