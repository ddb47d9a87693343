package io.duet.sync.link;

import io.duet.sync.Transport;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shares one link to a peer site among the consistency groups replicated with it: one {@link
 * Transport} per group id, plus the control channel (the nil group id) for site-to-site
 * administration. Every frame names its group in its header, so sending needs no wrapping and
 * receiving is a lookup; a frame for a group with no open channel is dropped and counted (the group
 * may not exist here yet, or was just deleted). Link up and down reach every channel.
 *
 * <p>Non-blocking: sends go straight to the link's bounded queue; deliveries happen on the link's
 * delivery thread, one at a time, so channel receivers must not block (as for any transport). The
 * underlying link may be replaced ({@link #attach}) when a peer is paired again; channels stay.
 */
public final class LinkChannels {
  /** The group id of the control channel. */
  public static final UUID CONTROL = new UUID(0, 0);

  /** Bound on open channels: consistency groups per peer, plus control. */
  public static final int MAX_CHANNELS_DEFAULT = 4096;

  /** Where FrameCodec puts the group id: after magic (2), version (1) and type (1). */
  private static final int GROUP_ID_AT = 4;

  /** FrameCodec's smallest frame: 32 header bytes and a 4-byte CRC. */
  private static final int MIN_FRAME_BYTES = 36;

  private final int maxChannels;
  private final Map<UUID, Channel> channels = new HashMap<>();
  private final AtomicLong dropped = new AtomicLong();
  private Transport link;
  private Object attachment;
  private boolean up;

  public LinkChannels(int maxChannels) {
    if (maxChannels < 1) {
      throw new IllegalArgumentException("maxChannels must be positive, got " + maxChannels);
    }
    this.maxChannels = maxChannels;
  }

  /**
   * Makes {@code newLink} the link every channel uses, and installs this demultiplexer as its
   * receiver. Events from a link attached earlier are ignored from now on (the caller closes it;
   * its down event, if it still comes, must not reach the channels after the new link's up).
   */
  public void attach(Transport newLink) {
    Objects.requireNonNull(newLink, "newLink");
    Receiver r;
    synchronized (this) {
      if (up) {
        down();
      }
      link = newLink;
      r = new Receiver(newLink);
      attachment = r;
    }
    // Outside our lock: the link delivers under its own lock and calls back into ours.
    newLink.setReceiver(r);
  }

  /** The channel of consistency group {@code groupId}; at most one open channel per group. */
  public Transport open(UUID groupId) {
    Objects.requireNonNull(groupId, "groupId");
    if (groupId.equals(CONTROL)) {
      throw new IllegalArgumentException("the nil group id is the control channel");
    }
    return openChannel(groupId);
  }

  /** The control channel (frames with the nil group id); at most one open at a time. */
  public Transport control() {
    return openChannel(CONTROL);
  }

  private synchronized Channel openChannel(UUID groupId) {
    if (channels.containsKey(groupId)) {
      throw new IllegalStateException("a channel for group " + groupId + " is open already");
    }
    if (channels.size() >= maxChannels) {
      throw new IllegalStateException(
          "the link has " + maxChannels + " channels open already; close one first");
    }
    Channel c = new Channel(groupId);
    channels.put(groupId, c);
    return c;
  }

  /** Closes the channel of {@code groupId}; its frames are dropped from now on. Idempotent. */
  public synchronized void close(UUID groupId) {
    Channel c = channels.remove(groupId);
    if (c != null) {
      c.closed = true;
    }
  }

  /** Frames received for no open channel, or too short to name one. */
  public long framesDropped() {
    return dropped.get();
  }

  /** Whether the attached link is up now. */
  public synchronized boolean isUp() {
    return up;
  }

  /** The group id a frame's header names, or null if the frame is too short to hold one. */
  static UUID groupOf(byte[] frame) {
    if (frame.length < MIN_FRAME_BYTES) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(frame, GROUP_ID_AT, 16);
    return new UUID(b.getLong(), b.getLong());
  }

  // ---- called by the current link's receiver, with our lock held ----

  private void frame(byte[] frame) {
    UUID group = groupOf(frame);
    Channel c = group == null ? null : channels.get(group);
    if (c == null || c.receiver == null) {
      dropped.incrementAndGet();
      return;
    }
    c.receiver.onFrame(frame);
  }

  private void linkUp() {
    if (up) {
      return;
    }
    up = true;
    for (Channel c : channels.values()) {
      if (c.receiver != null) {
        c.receiver.onLinkUp();
      }
    }
  }

  private void down() {
    up = false;
    for (Channel c : channels.values()) {
      if (c.receiver != null) {
        c.receiver.onLinkDown();
      }
    }
  }

  /** Receives for one attached link; ignores everything once another link is attached. */
  private final class Receiver implements Transport.Receiver {
    private final Transport source;

    Receiver(Transport source) {
      this.source = source;
    }

    private boolean current() {
      return attachment == this && link == source;
    }

    @Override
    public void onFrame(byte[] frame) {
      synchronized (LinkChannels.this) {
        if (current()) {
          frame(frame);
        }
      }
    }

    @Override
    public void onLinkUp() {
      synchronized (LinkChannels.this) {
        if (current()) {
          linkUp();
        }
      }
    }

    @Override
    public void onLinkDown() {
      synchronized (LinkChannels.this) {
        if (current() && up) {
          down();
        }
      }
    }
  }

  /** One group's view of the shared link. */
  private final class Channel implements Transport {
    private final UUID groupId;
    private Transport.Receiver receiver;
    private volatile boolean closed;

    Channel(UUID groupId) {
      this.groupId = groupId;
    }

    /**
     * Sends a frame of this channel's group; false when the link is down, its queue is full or the
     * channel was closed. A frame naming another group is a bug in the caller.
     */
    @Override
    public boolean send(byte[] frame) {
      if (!groupId.equals(groupOf(frame))) {
        throw new IllegalArgumentException(
            "frame for group " + groupOf(frame) + " sent on the channel of " + groupId);
      }
      Transport l;
      synchronized (LinkChannels.this) {
        l = link;
      }
      return !closed && l != null && l.send(frame);
    }

    @Override
    public boolean isUp() {
      return !closed && LinkChannels.this.isUp();
    }

    /** Installs the receiver; told {@code onLinkUp} at once if the link is up already. */
    @Override
    public void setReceiver(Transport.Receiver r) {
      Objects.requireNonNull(r, "receiver");
      synchronized (LinkChannels.this) {
        receiver = r;
        if (up && !closed) {
          r.onLinkUp();
        }
      }
    }
  }
}
