//! The banner printed once the stack is up: everything needed to try it.

use std::net::SocketAddr;

use crate::storage::Storage;

/// What the banner shows.
#[derive(Debug)]
pub(crate) struct Banner<'a> {
    pub http_addr: SocketAddr,
    pub token_addr: SocketAddr,
    pub mail_addr: SocketAddr,
    pub storage: &'a Storage,
    pub demo_email: &'a str,
    /// A demo credential, printed on purpose: this is the one place a password is shown.
    pub demo_password: &'a str,
    /// The Metal surface's demo API key, when the stack made one (no `GATEWAY_API_KEYS`).
    pub demo_api_key: Option<&'a str>,
}

impl Banner<'_> {
    /// How to try the Metal surface, when the stack made its API key.
    fn metal_lines(&self, http: &str) -> String {
        let Some(key) = self.demo_api_key else {
            return String::new();
        };
        format!(
            r#"
the Equinix Metal surface (demo API key {key}):
  curl -i -X POST '{http}/metal/v1/reset-password?email={email}' -H 'X-Auth-Token: {key}'
  curl -i -X DELETE {http}/metal/v1/reset-password -H 'X-Auth-Token: <the token from the mail>'
"#,
            email = self.demo_email,
        )
    }

    /// Writes the banner to stdout: it is the program's output, not a log line.
    pub(crate) fn print(&self) {
        let http = format!("http://localhost:{}", self.http_addr.port());
        let banner = format!(
            r#"
passreset is running
  REST (persona)     {http}/v1/account/password/forgot | check-token | reset
  gRPC token-service {token}
  gRPC mail-service  {mail}
  storage            {storage}
  mail               MAIL_TRANSPORT (default: .eml files in ./outbox)

demo account         {email}
demo password        {password}

try it:
  curl -i -X POST {http}/v1/account/password/forgot \
       -H 'Content-Type: application/json' -d '{{"email":"{email}"}}'
  then open the newest file in ./outbox for the reset link and its token.
  or in a browser: {http}/forgot (the link in the mail opens {http}/reset)
{metal}
Ctrl-C stops everything.
"#,
            token = self.token_addr,
            mail = self.mail_addr,
            storage = self.storage.describe(),
            email = self.demo_email,
            password = self.demo_password,
            metal = self.metal_lines(&http),
        );
        println!("{banner}");
    }
}
