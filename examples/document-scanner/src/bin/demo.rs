//! `cargo xtask demo` for the document scanner: the blog's flow on the local emulator. A user
//! creates a project; four page images (real scans) are uploaded out of order, each upload's S3
//! event runs ProcessDocument (Textract answered by a server replaying recorded responses); the
//! API lists the project, counts its pages and builds the searchable PDF (pages 1, 2, 3, 10),
//! written to `target/demo/document-scanner.pdf`; then DeleteProject removes everything.
//!
//! Run with `cargo xtask demo` (it starts the emulator and sets `LAMBDAKIT_EMULATOR_URL`), or
//! `cargo run -p example-document-scanner --features local --bin document-scanner-demo` with
//! the emulator running.

use example_document_scanner::local::{
    self, ALICE_IDENTITY, CREATE_PROJECT_EVENT, DELETE_PROJECT_EVENT, FETCH_PAGE_COUNT_EVENT,
    FETCH_PROJECTS_EVENT, GENERATE_PDF_EVENT, SAMPLE_PAGES, Stack,
};
use example_document_scanner::{BoxError, api};
use lambda_http::{Body, Response};

const USER: &str = "alice";
const PROJECT: &str = "My Taxes 2024";

fn body(response: &Response<Body>) -> &[u8] {
    response.body().as_ref()
}

fn expect(response: &Response<Body>, status: u16, what: &str) -> Result<(), BoxError> {
    if response.status().as_u16() == status {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} {}",
            response.status(),
            String::from_utf8_lossy(body(response))
        )
        .into())
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambdakit_test_support::init_tracing();
    let root = lambdakit_test_support::workspace_root();
    let out = std::env::var_os("LAMBDAKIT_DEMO_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/demo"));
    std::fs::create_dir_all(&out)?;

    // The stack: bucket and tables on the emulator, Textract replaying recorded responses.
    let stack = Stack::start(|_| {}).await?;
    let scanner = &stack.scanner;
    println!(
        "bucket {}, tables {} and {}",
        stack.bucket(),
        scanner.config().projects_table,
        scanner.config().pages_table
    );

    // 1. CreateProject, as the web app's "new project" button.
    let body_json = serde_json::json!({ "project": PROJECT, "identityId": ALICE_IDENTITY });
    let request = local::api_request(
        CREATE_PROJECT_EVENT,
        Some(USER),
        None,
        Some(&body_json.to_string()),
    )?;
    let response = api::create_project(scanner, request).await;
    expect(&response, 201, "CreateProject")?;
    println!(
        "CreateProject: 201 {}",
        String::from_utf8_lossy(body(&response))
    );

    // 2. Pages uploaded out of order; each upload's event runs ProcessDocument.
    for &(page, image, recording) in SAMPLE_PAGES.iter().rev() {
        let processed = stack
            .upload_sample(ALICE_IDENTITY, USER, PROJECT, page, (image, recording))
            .await?
            .into_result()?;
        for stored in &processed.pages {
            println!(
                "ProcessDocument: page {} of {} from {image}, {} lines, result in {}",
                stored.page, stored.project, stored.lines, stored.textract_key
            );
        }
    }

    // 3. FetchProjects and FetchPageCount.
    let request = local::api_request(FETCH_PROJECTS_EVENT, Some(USER), None, None)?;
    let response = api::fetch_projects(scanner, request).await;
    expect(&response, 200, "FetchProjects")?;
    println!(
        "FetchProjects: {}",
        String::from_utf8_lossy(body(&response))
    );
    let query = [("project", PROJECT)];
    let request = local::api_request(FETCH_PAGE_COUNT_EVENT, Some(USER), Some(&query), None)?;
    let response = api::fetch_page_count(scanner, request).await;
    expect(&response, 200, "FetchPageCount")?;
    println!(
        "FetchPageCount: {}",
        String::from_utf8_lossy(body(&response))
    );

    // 4. GeneratePDF: the searchable PDF, and the text-only one.
    let request = local::api_request(GENERATE_PDF_EVENT, Some(USER), Some(&query), None)?;
    let response = api::generate_pdf(scanner, request).await;
    expect(&response, 200, "GeneratePDF")?;
    let pdf = body(&response).to_vec();
    let path = out.join("document-scanner.pdf");
    std::fs::write(&path, &pdf)?;
    println!(
        "GeneratePDF: {} bytes, {} pages (1, 2, 3, 10), written to {}",
        pdf.len(),
        local::pdf_page_count(&pdf),
        path.display()
    );
    let text_query = [("project", PROJECT), ("mode", "text")];
    let request = local::api_request(GENERATE_PDF_EVENT, Some(USER), Some(&text_query), None)?;
    let response = api::generate_pdf(scanner, request).await;
    expect(&response, 200, "GeneratePDF ?mode=text")?;
    let text_path = out.join("document-scanner-text.pdf");
    std::fs::write(&text_path, body(&response))?;
    println!(
        "GeneratePDF ?mode=text: {} bytes, written to {}",
        body(&response).len(),
        text_path.display()
    );

    // 5. DeleteProject: pages, images, Textract results, then the project.
    let request = local::api_request(DELETE_PROJECT_EVENT, Some(USER), Some(&query), None)?;
    let response = api::delete_project(scanner, request).await;
    expect(&response, 200, "DeleteProject")?;
    println!(
        "DeleteProject: {}",
        String::from_utf8_lossy(body(&response))
    );
    let left = scanner.objects().list("").await?;
    let projects = scanner.projects(USER).await?;
    println!(
        "after DeleteProject: {} objects in the bucket, {} projects",
        left.len(),
        projects.len()
    );
    println!(
        "Textract calls: {} DetectDocumentText",
        stack.replay.count("DetectDocumentText")
    );
    Ok(())
}
