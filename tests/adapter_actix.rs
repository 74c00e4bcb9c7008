//! The actix-web adapter: the `actix` example app signs users in through `FakeAuthentik`, and its
//! extractors and guards answer as the engine does.

mod common;

use common::*;

/// `examples/actix.rs`, run as a process against a fake Authentik: a full sign-in; `/me` shows
/// the user; `/admin` refuses bob (403) and admits alice; signed-out API requests get 401 JSON
/// and browsers a redirect to the login page.
#[tokio::test]
async fn actix_example_signs_in_and_guards_pages() {
    example_contract("actix").await;
}
