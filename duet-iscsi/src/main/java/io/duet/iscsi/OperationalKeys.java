package io.duet.iscsi;

import io.duet.iscsi.TextKeys.Pair;
import java.util.List;

/**
 * Negotiation of the operational text keys (RFC 7143 13) from the target's side: each key the
 * initiator offers is answered with the result value (or NotUnderstood / Irrelevant / Reject), and
 * the result is kept for {@link SessionParams}. Unanswered keys keep their RFC defaults.
 */
final class OperationalKeys {
  private final IscsiSettings settings;

  private boolean headerDigest;
  private boolean dataDigest;
  private int initiatorMaxRecv = 8192;
  private int firstBurst = 65536;
  private int maxBurst = 262144;
  private boolean immediateData = true;
  private boolean initialR2T = true;
  private int maxOutstandingR2T = 1;
  private boolean markersOff = true;

  OperationalKeys(IscsiSettings settings) {
    this.settings = settings;
  }

  /** Answers one initiator key into {@code out}. */
  void negotiate(Pair p, List<Pair> out) {
    String key = p.key();
    String v = p.value();
    if (v.equals("NotUnderstood") || v.equals("Irrelevant") || v.equals("Reject")) {
      return; // the initiator answering something; nothing to negotiate
    }
    String answer =
        switch (key) {
          case "HeaderDigest" -> {
            String d = chooseDigest(v);
            if (d != null) {
              headerDigest = d.equals("CRC32C");
            }
            yield d == null ? "Reject" : d;
          }
          case "DataDigest" -> {
            String d = chooseDigest(v);
            if (d != null) {
              dataDigest = d.equals("CRC32C");
            }
            yield d == null ? "Reject" : d;
          }
          case "MaxRecvDataSegmentLength" -> {
            long n = number(v, 512, 0xffffff);
            if (n < 0) {
              yield "Reject";
            }
            initiatorMaxRecv = (int) n;
            yield null; // declarative: nothing to answer, ours is declared separately
          }
          case "FirstBurstLength" -> {
            long n = number(v, 512, 0xffffff);
            if (n < 0) {
              yield "Reject";
            }
            firstBurst = (int) Math.min(n, settings.firstBurstLengthBytes());
            yield Integer.toString(firstBurst);
          }
          case "MaxBurstLength" -> {
            long n = number(v, 512, 0xffffff);
            if (n < 0) {
              yield "Reject";
            }
            maxBurst = (int) Math.min(n, settings.maxBurstLengthBytes());
            yield Integer.toString(maxBurst);
          }
          case "ImmediateData" -> bool(v, b -> immediateData = b, false, true);
          case "InitialR2T" -> bool(v, b -> initialR2T = b, true, false);
          case "MaxOutstandingR2T" -> {
            long n = number(v, 1, 65535);
            if (n < 0) {
              yield "Reject";
            }
            maxOutstandingR2T = (int) Math.min(n, settings.maxOutstandingR2T());
            yield Integer.toString(maxOutstandingR2T);
          }
          case "DefaultTime2Wait" -> number(v, 0, 3600) < 0 ? "Reject" : "2";
          case "DefaultTime2Retain" -> number(v, 0, 3600) < 0 ? "Reject" : "0";
          case "ErrorRecoveryLevel" -> number(v, 0, 2) < 0 ? "Reject" : "0";
          case "MaxConnections" -> number(v, 1, 65535) < 0 ? "Reject" : "1";
          case "DataPDUInOrder", "DataSequenceInOrder" -> bool(v, b -> {}, true, true);
          case "IFMarker", "OFMarker" -> bool(v, b -> markersOff = !b, false, false);
          case "IFMarkInt", "OFMarkInt" -> "Irrelevant";
          // Keys only a target may send, and declarative target keys.
          case "TargetAlias", "TargetAddress", "TargetPortalGroupTag" -> "Reject";
          default -> "NotUnderstood";
        };
    if (answer != null) {
      out.add(new Pair(key, answer));
    }
  }

  /** Declarations the target makes once (our receive limit). */
  void declare(List<Pair> out) {
    out.add(
        new Pair(
            "MaxRecvDataSegmentLength",
            Integer.toString(settings.maxRecvDataSegmentLengthBytes())));
  }

  SessionParams toParams(
      boolean discovery, String initiatorName, String targetName, long isid, int tsih, int cid) {
    assert markersOff;
    return new SessionParams(
        discovery,
        initiatorName,
        targetName,
        isid,
        tsih,
        cid,
        headerDigest,
        dataDigest,
        initiatorMaxRecv,
        settings.maxRecvDataSegmentLengthBytes(),
        Math.min(firstBurst, maxBurst),
        maxBurst,
        immediateData,
        initialR2T,
        maxOutstandingR2T);
  }

  private static String chooseDigest(String offered) {
    for (String item : offered.split(",", 16)) {
      if (item.equals("CRC32C") || item.equals("None")) {
        return item;
      }
    }
    return null;
  }

  private interface BoolSink {
    void set(boolean value);
  }

  /**
   * A boolean key. {@code orFunction} selects the OR result function (else AND); {@code ours} is
   * the target's value. Returns the answer.
   */
  private static String bool(String v, BoolSink sink, boolean orFunction, boolean ours) {
    boolean theirs;
    if (v.equals("Yes")) {
      theirs = true;
    } else if (v.equals("No")) {
      theirs = false;
    } else {
      return "Reject";
    }
    boolean result = orFunction ? theirs || ours : theirs && ours;
    sink.set(result);
    return result ? "Yes" : "No";
  }

  /** A decimal (or 0x hex) number in range, or -1. */
  private static long number(String v, long min, long max) {
    try {
      long n;
      if (v.startsWith("0x") || v.startsWith("0X")) {
        n = v.length() > 18 ? -1 : Long.parseLong(v.substring(2), 16);
      } else {
        n = v.isEmpty() || v.length() > 18 ? -1 : Long.parseLong(v);
      }
      return n < min || n > max ? -1 : n;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
