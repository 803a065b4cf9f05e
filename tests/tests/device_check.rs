//! The device check page over plain HTTP: the cookie test needs no
//! JavaScript, stores nothing, and tells a browser that kept the cookie from
//! one that did not; the round-trip endpoint answers with nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tests::spawn_app;

#[tokio::test]
async fn the_cookie_test_reads_back_the_cookie_it_set() {
    let app = spawn_app().await;
    let browser = app.client();
    let first = browser.get(app.url("/check")).send().await.unwrap();
    assert_eq!(
        first.status(),
        303,
        "expected a redirect that reads the cookie back"
    );
    let cookie = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("device-check="))
        .expect("expected the test cookie");
    for part in ["Path=/check", "HttpOnly", "SameSite=Strict", "Max-Age=120"] {
        assert!(cookie.contains(part), "expected {part} in {cookie}");
    }
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/check?sent="), "saw {location}");

    let page = browser.get(app.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers().get("set-cookie").is_none(),
        "the report sets no cookie: no pupil session is started"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Cookies: works."),
        "expected cookies to work:\n{html}"
    );
    assert!(
        html.contains("Pages and styles: does not work.") && html.contains("check-styles-ok"),
        "expected both styles lines, which the stylesheet chooses between"
    );
    assert!(html.contains("This needs JavaScript"));

    // A browser that kept no cookie, or an address with another value.
    let refusing = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = refusing
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Cookies: does not work."), "{html}");
    for forged in ["/check?sent=0000000000000000", "/check?sent=%3Cscript%3E"] {
        let html = browser
            .get(app.url(forged))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Cookies: does not work.") && !html.contains("<script>"),
            "expected {forged} not to pass for the cookie set"
        );
    }
}

#[tokio::test]
async fn the_round_trip_endpoint_answers_with_nothing_and_is_not_cached() {
    let app = spawn_app().await;
    let response = app
        .client()
        .get(app.url("/check/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().get("set-cookie").is_none());
}
