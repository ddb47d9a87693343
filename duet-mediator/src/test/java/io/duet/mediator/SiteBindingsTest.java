package io.duet.mediator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.duet.mediator.MediatorException.Kind;
import io.duet.store.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SiteBindingsTest {
  static final UUID A = UUID.randomUUID();
  static final UUID B = UUID.randomUUID();
  static final Principal SITE_A = Principal.user("site-a");
  static final Principal SITE_B = Principal.user("site-b");
  static final Principal CERT_A = Principal.certificate("CN=site-a");

  @TempDir Path dir;

  static Kind kindOf(CredentialsTest.ThrowingCall call) {
    return CredentialsTest.kindOf(call);
  }

  @Test
  void firstUseBindsOnePrincipalToOneSiteAndItSurvivesAReopen() throws IOException {
    try (SiteBindings b = SiteBindings.open(dir)) {
      b.authorize(SITE_A, A);
      b.authorize(SITE_A, A);
      assertThat(kindOf(() -> b.authorize(SITE_A, B))).isEqualTo(Kind.FORBIDDEN);
      assertThat(kindOf(() -> b.authorize(SITE_B, A))).isEqualTo(Kind.FORBIDDEN);
      // A certificate whose subject looks like the user is still another principal.
      assertThat(kindOf(() -> b.authorize(CERT_A, A))).isEqualTo(Kind.FORBIDDEN);
      b.authorize(SITE_B, B);
    }
    try (SiteBindings b = SiteBindings.open(dir)) {
      assertThat(b.siteOf(SITE_A)).contains(A);
      assertThat(b.siteOf(CERT_A)).isEmpty();
      assertThat(b.all()).containsOnlyKeys("user:site-a", "user:site-b");
      assertThat(kindOf(() -> b.authorize(SITE_B, A))).isEqualTo(Kind.FORBIDDEN);
    }
  }

  @Test
  void refusalsSayWhoActsForWhatAndHowToUnbind() throws IOException {
    try (SiteBindings b = SiteBindings.open(dir)) {
      b.authorize(SITE_A, A);
      assertThatThrownBy(() -> b.authorize(SITE_A, B))
          .hasMessageContaining("user 'site-a' acts for site " + A)
          .hasMessageContaining("duet mediator user site-a --unbind --data-dir " + dir);
      assertThatThrownBy(() -> b.authorize(CERT_A, A))
          .hasMessageContaining("site " + A + " is bound to user 'site-a'")
          .hasMessageContaining("client certificate 'CN=site-a' may not act for it");
    }
  }

  @Test
  void unbindingFreesBothThePrincipalAndTheSite() throws IOException {
    try (SiteBindings b = SiteBindings.open(dir)) {
      b.authorize(SITE_A, A);
      assertThat(b.unbind(SITE_A)).contains(A);
      assertThat(b.unbind(SITE_A)).isEmpty();
      b.authorize(SITE_B, A);
      b.authorize(SITE_A, B);
    }
    try (SiteBindings b = SiteBindings.open(dir)) {
      assertThat(b.siteOf(SITE_B)).contains(A);
      assertThat(b.siteOf(SITE_A)).contains(B);
    }
  }

  @Test
  void oneOpenerAtATime() throws IOException {
    try (SiteBindings b = SiteBindings.open(dir)) {
      assertThatThrownBy(() -> SiteBindings.open(dir).close())
          .isInstanceOfSatisfying(
              MediatorException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT));
      b.authorize(SITE_A, A);
    }
    SiteBindings.open(dir).close();
  }

  @Test
  void aDamagedOrNewerFileIsAnErrorNamingIt() throws IOException {
    Path file = MediatorCa.secretsDir(dir).resolve(SiteBindings.FILE);
    for (String text :
        new String[] {
          "{\"format\":2,\"bindings\":{}}",
          "{\"format\":1}",
          "{\"format\":1,\"bindings\":{\"nobody\":\"" + A + "\"}}",
          "{\"format\":1,\"bindings\":{\"user:x\":\"not-a-uuid\"}}",
          "{\"format\":1,\"bindings\":{\"user:x\":\"" + A + "\",\"user:y\":\"" + A + "\"}}",
          "[]"
        }) {
      AtomicFile.write(file, text.getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> SiteBindings.open(dir).close())
          .as(text)
          .isInstanceOf(IOException.class)
          .hasMessageContaining(file.toString());
    }
    // The lock was released each time.
    AtomicFile.write(file, "{\"format\":1,\"bindings\":{}}".getBytes(StandardCharsets.UTF_8));
    SiteBindings.open(dir).close();
  }
}
