package io.duet.node.mediator;

/**
 * This site's mediator as the API shows it ({@code GET /mediator}, the site status). Never the
 * password.
 *
 * @param configured whether a mediator is configured; when not, the other fields are empty
 * @param address its {@code host:port}
 * @param url its HTTPS base URL
 * @param user the user this site logs in as
 * @param caCertSubject the subject of the trusted CA certificate
 * @param caCertSha256 the SHA-256 fingerprint of that certificate (hex)
 * @param connected whether the last call to the mediator, within the last few seconds, got an
 *     answer
 * @param lastContact when the mediator last answered (ISO-8601), or empty
 * @param lastError the last failure to reach it, or empty
 */
public record MediatorView(
    boolean configured,
    String address,
    String url,
    String user,
    String caCertSubject,
    String caCertSha256,
    boolean connected,
    String lastContact,
    String lastError) {

  static final MediatorView NONE = new MediatorView(false, "", "", "", "", "", false, "", "");
}
