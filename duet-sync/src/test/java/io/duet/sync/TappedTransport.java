package io.duet.sync;

import io.duet.sync.proto.FrameCodec;
import io.duet.sync.proto.FrameException;
import io.duet.sync.proto.Message;
import java.util.function.Consumer;

/** A transport that shows a test every message it sends (decoded), then passes the frame on. */
final class TappedTransport implements Transport {
  private final Transport inner;
  private final Consumer<Message> tap;

  TappedTransport(Transport inner, Consumer<Message> tap) {
    this.inner = inner;
    this.tap = tap;
  }

  @Override
  public boolean send(byte[] frame) {
    try {
      tap.accept(FrameCodec.decode(frame).message());
    } catch (FrameException e) {
      throw new AssertionError("the replicator sent an undecodable frame", e);
    }
    return inner.send(frame);
  }

  @Override
  public boolean isUp() {
    return inner.isUp();
  }

  @Override
  public void setReceiver(Receiver receiver) {
    inner.setReceiver(receiver);
  }
}
