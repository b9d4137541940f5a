//! FetchProjects, CreateProject, DeleteProject and FetchPageCount on real REST API events with
//! Cognito claims, against DynamoDB and S3 on the local emulator: the user only from the
//! authorizer, every result page read (small `Limit`s force many), deletes that leave nothing
//! behind and touch nothing else, and errors with the right status and no internals.

use example_document_scanner::local::{
    ALICE_IDENTITY, BOB_IDENTITY, CREATE_PROJECT_EVENT, DELETE_PROJECT_EVENT,
    FETCH_PAGE_COUNT_EVENT, FETCH_PROJECTS_EVENT, Stack, api_request, json_body,
};
use example_document_scanner::model::{PageRecord, image_prefix, textract_prefix};
use example_document_scanner::{Scanner, api};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

async fn create(scanner: &Scanner, user: Option<&str>, body: &str) -> Response<Body> {
    let request = api_request(CREATE_PROJECT_EVENT, user, None, Some(body)).expect("event");
    api::create_project(scanner, request).await
}

async fn fetch(scanner: &Scanner, user: Option<&str>) -> Response<Body> {
    let request = api_request(FETCH_PROJECTS_EVENT, user, None, None).expect("event");
    api::fetch_projects(scanner, request).await
}

async fn delete(scanner: &Scanner, user: &str, project: &str) -> Response<Body> {
    let query = [("project", project)];
    let request = api_request(DELETE_PROJECT_EVENT, Some(user), Some(&query), None).expect("event");
    api::delete_project(scanner, request).await
}

async fn count(scanner: &Scanner, user: &str, project: &str) -> Response<Body> {
    let query = [("project", project)];
    let request =
        api_request(FETCH_PAGE_COUNT_EVENT, Some(user), Some(&query), None).expect("event");
    api::fetch_page_count(scanner, request).await
}

fn new_project(name: &str, identity: &str) -> String {
    json!({ "project": name, "identityId": identity }).to_string()
}

fn names(response: &Response<Body>) -> Vec<String> {
    json_body(response).expect("json")["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Page items and their two objects (image and Textract result), as ProcessDocument leaves
/// them, written directly: many pages without many Textract calls.
async fn seed_pages(stack: &Stack, identity: &str, user: &str, project: &str, pages: u32) {
    for page in 1..=pages {
        let image_key = format!("{}{page}.png", image_prefix(identity, user, project));
        let textract_key = format!("{}{page}.json", textract_prefix(identity, user, project));
        stack
            .scanner
            .objects()
            .put(&image_key, b"png".to_vec(), "image/png")
            .await
            .expect("image");
        stack
            .scanner
            .objects()
            .put(&textract_key, b"{}".to_vec(), "application/json")
            .await
            .expect("result");
        let record = PageRecord {
            project: format!("{user}/{project}"),
            page,
            lines: vec![format!("page {page}")],
            lines_truncated: false,
            image_key,
            textract_key,
            identity_id: identity.into(),
            updated_at: "2024-03-14T09:26:53Z".into(),
        };
        stack.scanner.store().put_page(&record).await.expect("page");
    }
}

#[tokio::test]
async fn fetch_projects_queries_the_users_projects_across_every_result_page() {
    // Two items per Query page: seven projects take several pages.
    let stack = Stack::start(|c| c.query_page_size = Some(2))
        .await
        .expect("stack");
    let scanner = &stack.scanner;
    for i in 1..=7 {
        let response = create(
            scanner,
            Some("alice"),
            &new_project(&format!("a{i}"), ALICE_IDENTITY),
        )
        .await;
        assert_eq!(response.status(), 201);
    }
    for i in 1..=3 {
        let response = create(
            scanner,
            Some("bob"),
            &new_project(&format!("b{i}"), BOB_IDENTITY),
        )
        .await;
        assert_eq!(response.status(), 201);
    }
    let response = fetch(scanner, Some("alice")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(names(&response), ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]);
    assert_eq!(
        names(&fetch(scanner, Some("bob")).await),
        ["b1", "b2", "b3"]
    );
    assert!(names(&fetch(scanner, Some("carol")).await).is_empty());
}

#[tokio::test]
async fn the_user_is_the_authorizers_claim_never_the_request() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let scanner = &stack.scanner;
    // No claims (no authorizer): 401 on every function.
    let response = fetch(scanner, None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        json_body(&response).expect("json")["error"],
        "no signed-in user"
    );
    assert_eq!(
        create(scanner, None, &new_project("p", ALICE_IDENTITY))
            .await
            .status(),
        401
    );

    // A body naming another user changes nothing: the project is the signed-in user's.
    let body =
        json!({ "project": "p", "identityId": ALICE_IDENTITY, "username": "bob", "user": "bob" });
    let response = create(scanner, Some("alice"), &body.to_string()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(json_body(&response).expect("json")["user"], "alice");
    assert!(names(&fetch(scanner, Some("bob")).await).is_empty());
    // Nor does a query parameter.
    let request = api_request(
        FETCH_PROJECTS_EVENT,
        Some("bob"),
        Some(&[("username", "alice"), ("user", "alice")]),
        None,
    )
    .expect("event");
    assert!(names(&api::fetch_projects(scanner, request).await).is_empty());
}

#[tokio::test]
async fn create_project_never_overwrites_an_existing_project() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let scanner = &stack.scanner;
    assert_eq!(
        create(scanner, Some("alice"), &new_project("p", ALICE_IDENTITY))
            .await
            .status(),
        201
    );
    let again = create(scanner, Some("alice"), &new_project("p", BOB_IDENTITY)).await;
    assert_eq!(again.status(), 409);
    assert!(
        json_body(&again).expect("json")["error"]
            .as_str()
            .is_some_and(|e| e.contains("exists already"))
    );
    // The first identity is kept: the second could otherwise take over the project's uploads.
    let projects = json_body(&fetch(scanner, Some("alice")).await).expect("json");
    assert_eq!(projects["projects"][0]["identityId"], ALICE_IDENTITY);
    // Another user may have a project of the same name.
    assert_eq!(
        create(scanner, Some("bob"), &new_project("p", BOB_IDENTITY))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn bad_input_is_a_400_that_says_what_is_wrong() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let scanner = &stack.scanner;
    for (body, expected) in [
        ("", "expected a JSON body"),
        ("{\"project\": \"p\"}", "expected a JSON body"),
        ("not json", "expected a JSON body"),
        (new_project("a/b", ALICE_IDENTITY).as_str(), "contains '/'"),
        (new_project("", ALICE_IDENTITY).as_str(), "is empty"),
        (new_project(" p", ALICE_IDENTITY).as_str(), "white space"),
        (
            new_project("p", "../other").as_str(),
            "not a Cognito identity id",
        ),
    ] {
        let response = create(scanner, Some("alice"), body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error = json_body(&response).expect("json")["error"].clone();
        assert!(
            error.as_str().is_some_and(|e| e.contains(expected)),
            "{body}: {error}"
        );
    }
    // Without ?project=.
    let request = api_request(DELETE_PROJECT_EVENT, Some("alice"), Some(&[]), None).expect("event");
    let response = api::delete_project(scanner, request).await;
    assert_eq!(response.status(), 400);
    // A user name that cannot be a key segment.
    assert_eq!(fetch(scanner, Some("a/b")).await.status(), 400);
}

#[tokio::test]
async fn delete_project_removes_every_page_and_object_past_the_first_result_page() {
    // Five items per Query page, seven keys per listing: 60 pages take 12 Query pages,
    // 120 objects 18 listings, and the page deletes three BatchWriteItem calls.
    let stack = Stack::start(|c| {
        c.query_page_size = Some(5);
        c.list_page_size = Some(7);
    })
    .await
    .expect("stack");
    let scanner = &stack.scanner;
    for (user, project, identity) in [
        ("alice", "tax", ALICE_IDENTITY),
        ("alice", "taxes", ALICE_IDENTITY),
        ("bob", "tax", BOB_IDENTITY),
    ] {
        scanner
            .create_project(user, project, identity)
            .await
            .expect("project");
    }
    seed_pages(&stack, ALICE_IDENTITY, "alice", "tax", 60).await;
    seed_pages(&stack, ALICE_IDENTITY, "alice", "taxes", 3).await;
    seed_pages(&stack, BOB_IDENTITY, "bob", "tax", 2).await;
    // An exported PDF of the project.
    scanner
        .objects()
        .put(
            "exports/alice/tax/1-abc.pdf",
            b"%PDF-".to_vec(),
            "application/pdf",
        )
        .await
        .expect("export");

    let response = delete(scanner, "alice", "tax").await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    assert_eq!(
        json_body(&response).expect("json"),
        json!({ "pages": 60, "objects": 121 })
    );
    let store = scanner.store();
    assert_eq!(store.page_count("alice/tax").await.expect("count"), 0);
    assert!(store.pages("alice/tax").await.expect("pages").is_empty());
    for prefix in [
        image_prefix(ALICE_IDENTITY, "alice", "tax"),
        textract_prefix(ALICE_IDENTITY, "alice", "tax"),
        "exports/alice/tax/".to_owned(),
    ] {
        assert!(
            scanner
                .objects()
                .list(&prefix)
                .await
                .expect("list")
                .is_empty(),
            "{prefix}"
        );
    }
    assert_eq!(names(&fetch(scanner, Some("alice")).await), ["taxes"]);

    // "tax" is not a prefix of "taxes", and Bob's "tax" is Bob's.
    assert_eq!(store.page_count("alice/taxes").await.expect("count"), 3);
    assert_eq!(
        scanner
            .objects()
            .list(&image_prefix(ALICE_IDENTITY, "alice", "taxes"))
            .await
            .expect("list")
            .len(),
        3
    );
    assert_eq!(store.page_count("bob/tax").await.expect("count"), 2);
    assert_eq!(
        scanner.objects().list("").await.expect("list").len(),
        3 * 2 + 2 * 2
    );

    // Deleting it again: it is gone.
    assert_eq!(delete(scanner, "alice", "tax").await.status(), 404);
}

#[tokio::test]
async fn deleting_a_missing_or_someone_elses_project_is_404() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let scanner = &stack.scanner;
    let response = delete(scanner, "alice", "nothing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        json_body(&response).expect("json")["error"],
        "not found: project \"nothing\""
    );
    scanner
        .create_project("bob", "p", BOB_IDENTITY)
        .await
        .expect("project");
    seed_pages(&stack, BOB_IDENTITY, "bob", "p", 2).await;
    assert_eq!(delete(scanner, "alice", "p").await.status(), 404);
    assert_eq!(scanner.store().page_count("bob/p").await.expect("count"), 2);
}

#[tokio::test]
async fn page_count_counts_every_result_page_of_the_project_only() {
    let stack = Stack::start(|c| c.query_page_size = Some(3))
        .await
        .expect("stack");
    let scanner = &stack.scanner;
    scanner
        .create_project("alice", "p", ALICE_IDENTITY)
        .await
        .expect("project");
    scanner
        .create_project("alice", "q", ALICE_IDENTITY)
        .await
        .expect("project");
    seed_pages(&stack, ALICE_IDENTITY, "alice", "p", 10).await;
    seed_pages(&stack, ALICE_IDENTITY, "alice", "q", 4).await;
    let response = count(scanner, "alice", "p").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_body(&response).expect("json"),
        json!({ "project": "p", "count": 10 })
    );
    assert_eq!(count(scanner, "alice", "missing").await.status(), 404);
    assert_eq!(count(scanner, "bob", "p").await.status(), 404);
}

#[tokio::test]
async fn internal_errors_are_500_and_name_no_table_or_sdk_error() {
    // Tables that do not exist: every DynamoDB call fails.
    let stack = Stack::start(|c| {
        c.projects_table = "projects-missing-table".into();
        c.pages_table = "pages-missing-table".into();
    })
    .await
    .expect("stack");
    for response in [
        fetch(&stack.scanner, Some("alice")).await,
        create(
            &stack.scanner,
            Some("alice"),
            &new_project("p", ALICE_IDENTITY),
        )
        .await,
        count(&stack.scanner, "alice", "p").await,
    ] {
        assert_eq!(response.status(), 500);
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        let json: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(json["error"], "internal error");
        for secret in ["missing-table", "ResourceNotFound", "dynamodb", "Query"] {
            assert!(!body.contains(secret), "{body}");
        }
    }
}

#[tokio::test]
async fn every_response_carries_the_configured_cors_origin() {
    let origin = "https://scanner.example.com";
    let stack = Stack::start(|c| c.cors_allow_origin = origin.into())
        .await
        .expect("stack");
    for response in [
        fetch(&stack.scanner, Some("alice")).await,
        fetch(&stack.scanner, None).await,
        delete(&stack.scanner, "alice", "missing").await,
        create(&stack.scanner, Some("alice"), "{}").await,
    ] {
        assert_eq!(response.headers()["access-control-allow-origin"], origin);
        assert_eq!(response.headers()["vary"], "Origin");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("application/json"))
        );
    }
}

#[tokio::test]
async fn one_function_can_serve_every_route() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let scanner = &stack.scanner;
    let body = new_project("p", ALICE_IDENTITY);
    let request =
        api_request(CREATE_PROJECT_EVENT, Some("alice"), None, Some(&body)).expect("event");
    assert_eq!(api::route(scanner, request).await.status(), 201);
    let request = api_request(FETCH_PROJECTS_EVENT, Some("alice"), None, None).expect("event");
    assert_eq!(names(&api::route(scanner, request).await), ["p"]);
    let request = api_request(
        FETCH_PAGE_COUNT_EVENT,
        Some("alice"),
        Some(&[("project", "p")]),
        None,
    )
    .expect("event");
    assert_eq!(
        json_body(&api::route(scanner, request).await).expect("json")["count"],
        0
    );
    let request = api_request(
        DELETE_PROJECT_EVENT,
        Some("alice"),
        Some(&[("project", "p")]),
        None,
    )
    .expect("event");
    assert_eq!(api::route(scanner, request).await.status(), 200);

    // A CORS preflight (no token), and a route that does not exist.
    let mut preflight: Value = serde_json::from_str(FETCH_PROJECTS_EVENT).expect("sample");
    preflight["httpMethod"] = json!("OPTIONS");
    preflight["requestContext"]["httpMethod"] = json!("OPTIONS");
    preflight["requestContext"]["authorizer"] = Value::Null;
    let request = lambda_http::request::from_str(&preflight.to_string()).expect("event");
    let response = api::route(scanner, request).await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(
        response
            .headers()
            .contains_key("access-control-allow-methods")
    );
    let mut unknown: Value = serde_json::from_str(FETCH_PROJECTS_EVENT).expect("sample");
    unknown["path"] = json!("/nothing");
    let request = lambda_http::request::from_str(&unknown.to_string()).expect("event");
    assert_eq!(api::route(scanner, request).await.status(), 404);
}
