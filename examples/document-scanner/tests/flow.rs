//! The blog's whole flow on the local emulator, through the functions' real event shapes:
//! CreateProject, page images uploaded out of order and processed from their S3 events,
//! FetchProjects, FetchPageCount, GeneratePDF (pages in number order), DeleteProject (nothing
//! left behind).

use aws_sdk_dynamodb::types::AttributeValue;
use example_document_scanner::api;
use example_document_scanner::local::{
    ALICE_IDENTITY, CREATE_PROJECT_EVENT, DELETE_PROJECT_EVENT, FETCH_PAGE_COUNT_EVENT,
    FETCH_PROJECTS_EVENT, GENERATE_PDF_EVENT, SAMPLE_PAGES, Stack, api_request, json_body,
    pdf_page_count,
};
use lambda_http::Body;
use serde_json::json;

const USER: &str = "alice";
const PROJECT: &str = "My Taxes 2024";

#[tokio::test]
async fn upload_process_list_count_pdf_and_delete() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let scanner = &stack.scanner;

    let body = json!({ "project": PROJECT, "identityId": ALICE_IDENTITY }).to_string();
    let request = api_request(CREATE_PROJECT_EVENT, Some(USER), None, Some(&body)).expect("event");
    let response = api::create_project(scanner, request).await;
    assert_eq!(response.status(), 201, "{:?}", response.body());

    // Pages 10, 3, 2, 1: uploaded out of order, as a phone may finish them.
    for &(page, image, recording) in SAMPLE_PAGES.iter().rev() {
        let processed = stack
            .upload_sample(ALICE_IDENTITY, USER, PROJECT, page, (image, recording))
            .await
            .expect("processed");
        assert_eq!(processed.pages.len(), 1, "{processed:?}");
        assert!(processed.skipped.is_empty() && processed.failed.is_empty());
        assert_eq!(processed.pages[0].page, page);
        assert!(processed.pages[0].lines > 10, "{processed:?}");
    }
    assert_eq!(stack.replay.count("DetectDocumentText"), 4);

    let request = api_request(FETCH_PROJECTS_EVENT, Some(USER), None, None).expect("event");
    let response = api::fetch_projects(scanner, request).await;
    assert_eq!(response.status(), 200);
    let projects = json_body(&response).expect("json");
    assert_eq!(projects["projects"].as_array().map(Vec::len), Some(1));
    assert_eq!(projects["projects"][0]["name"], PROJECT);
    assert_eq!(projects["projects"][0]["identityId"], ALICE_IDENTITY);

    let query = [("project", PROJECT)];
    let request =
        api_request(FETCH_PAGE_COUNT_EVENT, Some(USER), Some(&query), None).expect("event");
    let response = api::fetch_page_count(scanner, request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response).expect("json")["count"], 4);

    let request = api_request(GENERATE_PDF_EVENT, Some(USER), Some(&query), None).expect("event");
    let response = api::generate_pdf(scanner, request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    // Binary: lambda_http sends it base64 with isBase64Encoded, as API Gateway needs.
    let Body::Binary(pdf) = response.body() else {
        panic!("the PDF is not a binary body: {:?}", response.body());
    };
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf_page_count(pdf), 4, "one page per image");

    let text = [("project", PROJECT), ("mode", "text")];
    let request = api_request(GENERATE_PDF_EVENT, Some(USER), Some(&text), None).expect("event");
    let response = api::generate_pdf(scanner, request).await;
    assert_eq!(response.status(), 200);
    assert!(response.body().as_ref().starts_with(b"%PDF-"));

    let request = api_request(DELETE_PROJECT_EVENT, Some(USER), Some(&query), None).expect("event");
    let response = api::delete_project(scanner, request).await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    assert_eq!(
        json_body(&response).expect("json"),
        json!({ "pages": 4, "objects": 8 }),
        "4 page items; 4 images and 4 Textract results"
    );

    // Nothing is left: no object, no page item, no project.
    assert!(scanner.objects().list("").await.expect("list").is_empty());
    let items = stack
        .dynamodb
        .query()
        .table_name(&scanner.config().pages_table)
        .key_condition_expression("#p = :p")
        .expression_attribute_names("#p", "project")
        .expression_attribute_values(":p", AttributeValue::S(format!("{USER}/{PROJECT}")))
        .send()
        .await
        .expect("query");
    assert_eq!(items.count, 0);
    let request = api_request(FETCH_PROJECTS_EVENT, Some(USER), None, None).expect("event");
    let response = api::fetch_projects(scanner, request).await;
    assert_eq!(
        json_body(&response).expect("json"),
        json!({ "projects": [] })
    );
    let request =
        api_request(FETCH_PAGE_COUNT_EVENT, Some(USER), Some(&query), None).expect("event");
    assert_eq!(api::fetch_page_count(scanner, request).await.status(), 404);
}
