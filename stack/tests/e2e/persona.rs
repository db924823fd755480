//! The persona reset flow from outside: HTTP in, real mail out.

use reqwest::StatusCode;

use crate::helpers::{PERSONA_CONTENT_TYPE, RESET_URL, TestApp, json_of, spawn_app, token_in};

const EMAIL: &str = "ada@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_user_resets_a_forgotten_password_with_the_link_from_the_mail() {
    reset_with_the_link_from_the_mail(spawn_app().await).await;
}

/// The whole persona flow on `app`: forgot, the mail, check, a refused and a good reset, the
/// notice. Also run on a Redis Cluster (`cluster.rs`).
pub(crate) async fn reset_with_the_link_from_the_mail(app: TestApp) {
    app.create_account(EMAIL, OLD_PASSWORD).await;

    let response = app.forgot(EMAIL).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let mail = app.mail_number(1).await;
    assert_eq!(mail.recipients, vec![EMAIL.to_owned()]);
    assert!(
        mail.html_body()
            .contains(RESET_URL.trim_end_matches("{token}"))
    );
    let token = token_in(&mail);
    assert!(token.starts_with("prt_"), "token in the link: {token}");

    // Checking never spends the token.
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );

    let mismatch = app
        .reset(&token, NEW_PASSWORD, "something else entirely")
        .await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    assert!(json_of(mismatch).await["invalid_request_body"]["message"].is_string());
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);
    assert!(!app.password_verifies(EMAIL, OLD_PASSWORD).await);

    let spent_check = app.check_token(&token).await;
    assert!(
        spent_check.status().is_client_error(),
        "spent check: {}",
        spent_check.status()
    );
    let spent_reset = app
        .reset(&token, "another fine password 2", "another fine password 2")
        .await;
    assert!(
        spent_reset.status().is_client_error(),
        "spent reset: {}",
        spent_reset.status()
    );
    assert!(json_of(spent_reset).await["used_token"]["message"].is_string());

    let notice = app.mail_number(2).await;
    assert_eq!(notice.recipients, vec![EMAIL.to_owned()]);
    assert!(!notice.text_body().contains(&token));
    assert!(!notice.text_body().contains(NEW_PASSWORD));
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_address_is_answered_exactly_like_a_known_one_and_gets_no_mail() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;

    let unknown = app.forgot("nobody@example.com").await;
    let known = app.forgot(EMAIL).await;
    assert_eq!(unknown.status(), known.status());
    let headers_of = |response: &reqwest::Response| {
        let mut headers: Vec<_> = response
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect();
        headers.sort();
        headers
    };
    assert_eq!(headers_of(&unknown), headers_of(&known));
    assert_eq!(unknown.bytes().await.unwrap(), known.bytes().await.unwrap());

    // One worker delivers in queue order: once the known address's mail is here, the unknown
    // address's request has been handled too.
    let mail = app.mail_number(1).await;
    assert_eq!(mail.recipients, vec![EMAIL.to_owned()]);
    assert_eq!(app.smtp.messages().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_and_a_missing_email_are_400_in_personas_shape() {
    let app = spawn_app().await;
    for body in ["{not json", "{}", r#"{"email": 42}"#, "\"just a string\""] {
        let response = app
            .post("/v1/account/password/forgot", PERSONA_CONTENT_TYPE, body)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "body {body}");
        let error = json_of(response).await;
        assert_eq!(error["http_code"], 400, "body {body}: {error}");
        assert_eq!(error["http_status"], "Bad request");
        assert!(
            error["invalid_request_body"]["message"].is_string(),
            "{error}"
        );
        assert!(
            error["invalid_request_body"]["description"].is_string(),
            "{error}"
        );
    }
    let response = app.forgot("not an address").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(json_of(response).await["invalid_request_body"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn json_is_accepted_with_or_without_a_charset_and_other_types_are_415() {
    let app = spawn_app().await;
    let body = serde_json::json!({ "email": EMAIL }).to_string();
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        PERSONA_CONTENT_TYPE,
    ] {
        let response = app
            .post("/v1/account/password/forgot", content_type, body.clone())
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{content_type}");
    }
    let response = app
        .post("/v1/account/password/forgot", "text/plain", body)
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json_of(response).await["http_code"], 415);
    app.stop().await;
}

#[tokio::test]
async fn a_made_up_token_is_refused_by_check_and_reset() {
    let app = spawn_app().await;
    for token in [
        "prt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "nonsense",
        "",
    ] {
        let check = app.check_token(token).await;
        assert_eq!(check.status(), StatusCode::BAD_REQUEST, "check {token:?}");
        assert!(json_of(check).await["invalid_token"]["message"].is_string());
        let reset = app.reset(token, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(reset.status(), StatusCode::BAD_REQUEST, "reset {token:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_weak_password_is_refused_before_the_token_is_spent() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    app.forgot(EMAIL).await;
    let token = token_in(&app.mail_number(1).await);

    let weak = app.reset(&token, "short", "short").await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    assert!(json_of(weak).await["invalid_password"]["message"].is_string());
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}

#[tokio::test]
async fn no_token_or_link_remains_in_redis_once_the_mail_is_delivered() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    app.forgot(EMAIL).await;
    let token = token_in(&app.mail_number(1).await);

    // The queue entry is deleted right after the SMTP server accepts the mail: give the worker
    // a moment to get there, then insist.
    let mut dump = app.redis.dump().await;
    for _ in 0..100 {
        if !dump.contains(&token) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        dump = app.redis.dump().await;
    }
    assert!(!dump.is_empty(), "the services wrote under the test prefix");
    assert!(!dump.contains(&token), "plaintext token in redis:\n{dump}");
    assert!(!dump.contains(OLD_PASSWORD));
    app.stop().await;
}

#[tokio::test]
async fn a_completed_reset_publishes_one_password_changed_event_and_one_notice() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );

    // The notice follows from the event (the mail service reads it), once.
    let notice = app.mail_number(2).await;
    assert_eq!(notice.recipients, vec![EMAIL.to_owned()]);
    let mut redis = app.redis.connection().await;
    let events: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}events", app.redis.prefix))
        .arg("-")
        .arg("+")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(events.ids.len(), 1, "{events:?}");
    let event = &events.ids[0];
    assert_eq!(
        event.get::<String>("type").as_deref(),
        Some("password_changed")
    );
    assert_eq!(event.get::<String>("surface").as_deref(), Some("persona"));
    assert!(
        event
            .get::<String>("account_id")
            .is_some_and(|id| id.starts_with("acct_"))
    );
    assert!(event.get::<i64>("at").is_some_and(|at| at > 0));
    // What the notice needs, and never a secret.
    assert_eq!(event.get::<String>("email").as_deref(), Some(EMAIL));
    assert!(
        event
            .get::<String>("reset_id")
            .is_some_and(|id| !id.is_empty())
    );
    let everything = format!("{event:?}");
    for secret in [token.as_str(), NEW_PASSWORD, OLD_PASSWORD] {
        assert!(!everything.contains(secret), "the event holds {secret}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_reset_redeemed_directly_over_grpc_gets_its_notice_too() {
    use passreset_proto::token::v1::{
        IssueTokenRequest, RedeemRequest, issue_token_response::Outcome, redeem_request::Password,
        token_service_client::TokenServiceClient,
    };

    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let mut tokens = TokenServiceClient::connect(app.token_url.clone())
        .await
        .unwrap();
    let issued = tokens
        .issue_token(IssueTokenRequest {
            email: EMAIL.to_owned(),
            context: None,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(Outcome::Issued(issued)) = issued.outcome else {
        panic!("no token issued");
    };
    tokens
        .redeem(RedeemRequest {
            token: issued.token.clone(),
            password: Some(Password::NewPassword(NEW_PASSWORD.to_owned())),
            context: None,
        })
        .await
        .unwrap();

    // No gateway was involved, and no reset mail was asked for: the one mail is the notice.
    let notice = app.mail_number(1).await;
    assert_eq!(notice.recipients, vec![EMAIL.to_owned()]);
    assert!(!notice.text_body().contains(&issued.token));
    assert!(!notice.text_body().contains(NEW_PASSWORD));
    app.stop().await;
}
