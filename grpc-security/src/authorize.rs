//! [`Authorize`]: a tower layer for tonic servers that lets each call through by its gRPC path
//! (`/package.Service/Method`) and the caller's `authorization: Bearer <secret>`, default deny:
//! a path the [`Policy`] does not name is refused to everyone. No credential or an unknown one
//! is UNAUTHENTICATED, a known caller outside its permissions PERMISSION_DENIED; both are
//! audited with the caller's name (never the secret). Sit it inside the metrics layer, so the
//! refusals are counted.

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tonic::Status;
use tracing::Instrument as _;

use crate::Callers;

/// Longest part of a refused path kept in an audit line (the path comes from the caller).
const MAX_AUDITED_PATH: usize = 96;

/// Name given to every caller of a server that has no callers configured.
pub const ANONYMOUS: &str = "anonymous";

/// Who is calling: in the request's extensions for the service's audit lines.
#[derive(Clone, Debug)]
pub struct CallerName(pub Arc<str>);

/// Who may call a path.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Anyone, without a credential (health).
    Open,
    /// Any known caller (reflection).
    AnyCaller,
    /// A known caller holding one of these permissions.
    AnyOf(&'static [&'static str]),
}

/// What a server lets through: its callers and the access each path needs.
#[derive(Clone, Debug)]
pub struct Policy {
    callers: Callers,
    /// No callers, and allowed to serve anyone (loopback, or `*_ALLOW_ANONYMOUS`).
    anonymous: bool,
    /// `(path, access)`: a path ending in `/` names a whole service.
    rules: Vec<(String, Access)>,
}

/// A server on a non-loopback address with no callers, not told to serve anyone.
#[derive(Debug, thiserror::Error)]
#[error(
    "{callers_variable}: no callers configured for {addr}, which is not a loopback address: set \
     {callers_variable}=name:perm+perm=secret (or {anonymous_variable}=true to let anyone call)"
)]
pub struct AnonymousRefused {
    /// The caller list's variable, e.g. `TOKEN_GRPC_CALLERS`.
    pub callers_variable: &'static str,
    /// The opt-out's variable, e.g. `TOKEN_GRPC_ALLOW_ANONYMOUS`.
    pub anonymous_variable: &'static str,
    /// Where the server listens.
    pub addr: SocketAddr,
}

/// The answer for one call.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Through, as this caller.
    Allowed(Arc<str>),
    /// No credential, or one no caller has.
    Unauthenticated,
    /// A known caller without the permission.
    PermissionDenied(Arc<str>),
}

impl Policy {
    /// The start rule: with no callers a server serves anyone on loopback (a laptop), or where
    /// `allow_anonymous` says so (with a warning at every start); on any other address it
    /// refuses to start.
    pub fn for_listener(
        callers: Callers,
        addr: SocketAddr,
        allow_anonymous: bool,
        callers_variable: &'static str,
        anonymous_variable: &'static str,
    ) -> Result<Self, AnonymousRefused> {
        let anonymous = callers.is_empty();
        if anonymous && !addr.ip().is_loopback() {
            if !allow_anonymous {
                return Err(AnonymousRefused {
                    callers_variable,
                    anonymous_variable,
                    addr,
                });
            }
            tracing::warn!(
                %addr,
                setting = anonymous_variable,
                "grpc server open to anyone who can reach it: no callers configured"
            );
        }
        Ok(Self {
            callers,
            anonymous,
            rules: Vec::new(),
        })
    }

    /// Health open to anyone (orchestrators probe it without a secret), reflection (both
    /// versions) to any known caller: it tells what the server offers.
    pub fn with_standard_services(self) -> Self {
        self.service("grpc.health.v1.Health", Access::Open)
            .service("grpc.reflection.v1.ServerReflection", Access::AnyCaller)
            .service(
                "grpc.reflection.v1alpha.ServerReflection",
                Access::AnyCaller,
            )
    }

    /// Every method of `service` (`package.Service`) needs `access`.
    pub fn service(mut self, service: &str, access: Access) -> Self {
        self.rules.push((format!("/{service}/"), access));
        self
    }

    /// Each `(method, permissions)` of `service` (`package.Service`) needs one of its
    /// permissions.
    pub fn methods(self, service: &str, methods: &[(&str, &'static [&'static str])]) -> Self {
        methods.iter().fold(self, |policy, (method, permissions)| {
            policy.method(&format!("/{service}/{method}"), Access::AnyOf(permissions))
        })
    }

    /// `method` (`/package.Service/Method`) needs `access`; it wins over its service's rule.
    pub fn method(mut self, path: &str, access: Access) -> Self {
        self.rules.insert(0, (path.to_owned(), access));
        self
    }

    /// Whether every call goes through unchecked (no callers configured).
    pub fn is_anonymous(&self) -> bool {
        self.anonymous
    }

    fn access(&self, path: &str) -> Option<Access> {
        self.rules
            .iter()
            .find(|(rule, _)| {
                if rule.ends_with('/') {
                    path.starts_with(rule.as_str())
                } else {
                    path == rule
                }
            })
            .map(|(_, access)| *access)
    }

    /// The verdict on a call of `path` with this `authorization` header value.
    pub fn judge(&self, path: &str, authorization: Option<&[u8]>) -> Verdict {
        if self.anonymous {
            return Verdict::Allowed(ANONYMOUS.into());
        }
        let access = self.access(path);
        if let Some(Access::Open) = access {
            return Verdict::Allowed(ANONYMOUS.into());
        }
        let caller = authorization
            .and_then(|value| value.strip_prefix(b"Bearer "))
            .and_then(|secret| self.callers.identify(secret.trim_ascii()));
        let Some(caller) = caller else {
            return Verdict::Unauthenticated;
        };
        let allowed = match access {
            Some(Access::Open | Access::AnyCaller) => true,
            Some(Access::AnyOf(permissions)) => caller.holds_any(permissions),
            None => false,
        };
        if allowed {
            Verdict::Allowed(caller.name.clone())
        } else {
            Verdict::PermissionDenied(caller.name.clone())
        }
    }
}

/// The layer: `Server::builder().layer(tracing).layer(metrics).layer(Authorize::new(policy))`.
#[derive(Clone, Debug)]
pub struct Authorize {
    policy: Arc<Policy>,
}

impl Authorize {
    /// Enforces `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl<S> tower::Layer<S> for Authorize {
    type Service = AuthorizeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthorizeService {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The service [`Authorize`] wraps around each gRPC service.
#[derive(Clone, Debug)]
pub struct AuthorizeService<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S, B, R> tower::Service<http::Request<B>> for AuthorizeService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(http::HeaderValue::as_bytes);
        let refusal = match self.policy.judge(path, authorization) {
            Verdict::Allowed(caller) => {
                let span = tracing::info_span!("authorized", caller = %caller);
                request.extensions_mut().insert(CallerName(caller));
                let future = span.in_scope(|| self.inner.call(request));
                return Box::pin(future.instrument(span));
            }
            Verdict::Unauthenticated => {
                audit_refusal("unauthenticated", ANONYMOUS, path);
                Status::unauthenticated(
                    "no known caller credential: send authorization: Bearer <secret>",
                )
            }
            Verdict::PermissionDenied(caller) => {
                audit_refusal("permission_denied", &caller, path);
                Status::permission_denied("this caller may not call this method")
            }
        };
        Box::pin(std::future::ready(Ok(refusal.into_http())))
    }
}

fn audit_refusal(event: &'static str, caller: &str, path: &str) {
    let method: String = path
        .chars()
        .filter(|character| !character.is_control())
        .take(MAX_AUDITED_PATH)
        .collect();
    tracing::warn!(target: "audit", event, caller, method, "audit");
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-secret";

    fn policy() -> Policy {
        let callers =
            Callers::parse(&format!("gateway:reset={SECRET}"), &["reset", "accounts"]).unwrap();
        Policy::for_listener(callers, "0.0.0.0:1".parse().unwrap(), false, "C", "A")
            .unwrap()
            .service("grpc.health.v1.Health", Access::Open)
            .service("pkg.Tokens", Access::AnyOf(&["reset"]))
            .method("/pkg.Tokens/Admin", Access::AnyOf(&["accounts"]))
    }

    #[test]
    fn a_path_no_rule_names_is_denied_even_to_a_known_caller() {
        let bearer = format!("Bearer {SECRET}");
        let verdict = policy().judge("/pkg.Other/Call", Some(bearer.as_bytes()));
        assert_eq!(verdict, Verdict::PermissionDenied("gateway".into()));
        assert_eq!(
            policy().judge("/pkg.Other/Call", None),
            Verdict::Unauthenticated
        );
    }

    #[test]
    fn a_method_rule_wins_over_its_service_rule() {
        let bearer = format!("Bearer {SECRET}");
        let policy = policy();
        assert_eq!(
            policy.judge("/pkg.Tokens/Issue", Some(bearer.as_bytes())),
            Verdict::Allowed("gateway".into())
        );
        assert_eq!(
            policy.judge("/pkg.Tokens/Admin", Some(bearer.as_bytes())),
            Verdict::PermissionDenied("gateway".into())
        );
        assert_eq!(
            policy.judge("/pkg.Tokens/Issue", Some(b"Bearer wrong-secret-of-length")),
            Verdict::Unauthenticated
        );
        assert_eq!(
            policy.judge("/grpc.health.v1.Health/Check", None),
            Verdict::Allowed(ANONYMOUS.into())
        );
    }

    #[test]
    fn no_callers_serves_anyone_on_loopback_and_refuses_elsewhere() {
        let loopback = Policy::for_listener(
            Callers::default(),
            "127.0.0.1:0".parse().unwrap(),
            false,
            "C",
            "A",
        )
        .unwrap();
        assert!(loopback.is_anonymous());
        let refused = Policy::for_listener(
            Callers::default(),
            "0.0.0.0:50051".parse().unwrap(),
            false,
            "TOKEN_GRPC_CALLERS",
            "TOKEN_GRPC_ALLOW_ANONYMOUS",
        )
        .unwrap_err()
        .to_string();
        assert!(refused.starts_with("TOKEN_GRPC_CALLERS: "), "{refused}");
        assert!(
            refused.contains("TOKEN_GRPC_ALLOW_ANONYMOUS=true"),
            "{refused}"
        );
        assert!(
            Policy::for_listener(
                Callers::default(),
                "0.0.0.0:50051".parse().unwrap(),
                true,
                "C",
                "A"
            )
            .unwrap()
            .is_anonymous()
        );
    }
}
