//! The reset pages without a browser: every state, the headers, the languages, the forms.

use reqwest::{StatusCode, header};

use crate::helpers::{TestApp, spawn_app, token_in};

const EMAIL: &str = "page-user@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "violet harbour quokka 77";

async fn get(app: &TestApp, path: &str, language: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base_url))
        .header(header::ACCEPT_LANGUAGE, language)
        .send()
        .await
        .unwrap()
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base_url))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn mailed_token(app: &TestApp, number: usize) -> String {
    token_in(&app.mail_number(number).await)
}

#[tokio::test]
async fn the_reset_page_asks_twice_refuses_mismatches_and_weak_passwords_then_resets() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = mailed_token(&app, 1).await;

    let page = get(&app, &format!("/reset?token={token}"), "en").await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers()[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(r#"id="password""#) && html.contains(r#"id="confirm""#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "an external URL"
    );

    let mismatch = post_form(
        &app,
        "/reset",
        &[
            ("token", &token),
            ("password", NEW_PASSWORD),
            ("confirm_password", "other"),
        ],
    )
    .await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    assert!(mismatch.text().await.unwrap().contains("do not match"));
    let weak = post_form(
        &app,
        "/reset",
        &[
            ("token", &token),
            ("password", "password1234"),
            ("confirm_password", "password1234"),
        ],
    )
    .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    assert!(weak.text().await.unwrap().contains("too easy to guess"));
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );

    let done = post_form(
        &app,
        "/reset",
        &[
            ("token", &token),
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Your password was changed")
    );
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);

    let spent = get(&app, &format!("/reset?token={token}"), "en").await;
    assert_eq!(spent.status(), StatusCode::FORBIDDEN);
    let html = spent.text().await.unwrap();
    assert!(html.contains("already been used") && html.contains(r#"id="forgot-form""#));
    app.stop().await;
}

#[tokio::test]
async fn the_forgot_form_sends_a_link_and_answers_alike_for_any_address() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let form = get(&app, "/forgot", "fi-FI,fi;q=0.9").await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains(r#"<html lang="fi">"#));

    let known = post_form(&app, "/forgot", &[("email", EMAIL)]).await;
    let unknown = post_form(&app, "/forgot", &[("email", "nobody@example.com")]).await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    mailed_token(&app, 1).await;

    let invalid = post_form(&app, "/forgot", &[("email", "not an address")]).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn pages_speak_swedish_and_finnish_and_refuse_cross_site_posts() {
    let app = spawn_app().await;
    let swedish = get(&app, "/reset?token=prt_madeup", "sv-SE").await;
    assert_eq!(swedish.status(), StatusCode::FORBIDDEN);
    let html = swedish.text().await.unwrap();
    assert!(
        html.contains(r#"lang="sv""#) && html.contains("Be om en ny länk"),
        "{html}"
    );
    let finnish = get(&app, "/forgot", "fi").await.text().await.unwrap();
    assert!(finnish.contains("Lähetä linkki"), "{finnish}");

    let cross_site = app
        .http
        .post(format!("{}/forgot", app.base_url))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", EMAIL)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

/// The page says the token service's every verdict in the reader's language: this pins the
/// shapes `gateway/src/policy/` recognises to the words the real policy uses.
#[tokio::test]
async fn every_policy_verdict_is_shown_in_swedish_and_finnish_and_the_token_stays_usable() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = mailed_token(&app, 1).await;
    let too_long = "x".repeat(257);
    let spaces = " ".repeat(20);
    let cases = [
        ("short", "minst 12 tecken", "vähintään 12 merkkiä"),
        (
            too_long.as_str(),
            "högst 256 tecken",
            "enintään 256 merkkiä",
        ),
        (
            spaces.as_str(),
            "bara mellanslag",
            "pelkistä välilyönneistä",
        ),
        (EMAIL, "e-postadress", "sähköpostiosoitteesi"),
        (
            "password1234",
            "för lätt att gissa: det",
            "liian helppo arvata: se",
        ),
    ];
    for (password, swedish, finnish) in cases {
        for (language, words) in [("sv-SE", swedish), ("fi-FI", finnish)] {
            let page = app
                .http
                .post(format!("{}/reset", app.base_url))
                .header(header::ACCEPT_LANGUAGE, language)
                .form(&[
                    ("token", token.as_str()),
                    ("password", password),
                    ("confirm_password", password),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), StatusCode::BAD_REQUEST);
            let html = page.text().await.unwrap();
            let feedback = html
                .split(r#"id="feedback""#)
                .nth(1)
                .and_then(|rest| rest.split("</p>").next())
                .unwrap_or_default();
            assert!(
                feedback.contains(words) && !feedback.contains("password"),
                "{language}, {}: {feedback}",
                &password[..password.len().min(24)]
            );
        }
    }
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}
