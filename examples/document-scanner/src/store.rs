//! The Projects and Pages tables. Every read is a `Query` on the partition key that follows
//! `LastEvaluatedKey` to the end (never a `Scan`, never a first page taken for the whole).

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, DeleteRequest, Put, Select, TransactWriteItem, WriteRequest,
};

use crate::Error;
use crate::model::{Item, PageRecord, Project};

/// `BatchWriteItem` takes at most 25 requests.
pub const BATCH_WRITE_MAX: usize = 25;

/// How often unprocessed items are sent again before giving up.
const BATCH_WRITE_ATTEMPTS: u32 = 8;

/// The two tables.
#[derive(Debug, Clone)]
pub struct Store {
    dynamodb: aws_sdk_dynamodb::Client,
    projects: String,
    pages: String,
    page_size: Option<i32>,
}

impl Store {
    /// A store over `projects` and `pages`; `page_size` is the `Limit` of each `Query` (`None`:
    /// DynamoDB's 1 MB pages).
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        projects: impl Into<String>,
        pages: impl Into<String>,
        page_size: Option<i32>,
    ) -> Self {
        Self {
            dynamodb,
            projects: projects.into(),
            pages: pages.into(),
            page_size,
        }
    }

    /// Every project of `user`, ordered by name.
    pub async fn projects(&self, user: &str) -> Result<Vec<Project>, Error> {
        let items = self.query_all(&self.projects, "username", user).await?;
        items.iter().map(Project::from_item).collect()
    }

    /// The project, read consistently, or `None`.
    pub async fn project(&self, user: &str, name: &str) -> Result<Option<Project>, Error> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.projects)
            .key("username", AttributeValue::S(user.into()))
            .key("project_name", AttributeValue::S(name.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Error::aws("dynamodb:GetItem", e))?;
        out.item.as_ref().map(Project::from_item).transpose()
    }

    /// Stores a new project. Returns [`Error::Conflict`] when one of that name exists: an
    /// existing project (and the identity it records) is never overwritten.
    pub async fn create_project(&self, project: &Project) -> Result<(), Error> {
        let result = self
            .dynamodb
            .put_item()
            .table_name(&self.projects)
            .set_item(Some(project.to_item()))
            .condition_expression("attribute_not_exists(username)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(Error::Conflict(format!(
                    "project {:?} exists already",
                    project.name
                )))
            }
            Err(e) => Err(Error::aws("dynamodb:PutItem", e)),
        }
    }

    /// Deletes the project item. Returns `false` when there was none.
    pub async fn delete_project(&self, user: &str, name: &str) -> Result<bool, Error> {
        let result = self
            .dynamodb
            .delete_item()
            .table_name(&self.projects)
            .key("username", AttributeValue::S(user.into()))
            .key("project_name", AttributeValue::S(name.into()))
            .condition_expression("attribute_exists(username)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(Error::aws("dynamodb:DeleteItem", e)),
        }
    }

    /// Every page of the project `{user}/{project}`, by page number (1, 2, 10).
    pub async fn pages(&self, project_id: &str) -> Result<Vec<PageRecord>, Error> {
        let items = self.query_all(&self.pages, "project", project_id).await?;
        let mut pages = items
            .iter()
            .map(PageRecord::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        // The sort key is a number, so DynamoDB returns them in this order already; sorting
        // again costs nothing and keeps the order whatever the table's key type.
        pages.sort_by_key(|p| p.page);
        Ok(pages)
    }

    /// How many pages the project has: a `Select: COUNT` query, summed over every result page
    /// (each page counts at most 1 MB of items).
    pub async fn page_count(&self, project_id: &str) -> Result<u64, Error> {
        let mut total = 0u64;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .dynamodb
                .query()
                .table_name(&self.pages)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "project")
                .expression_attribute_values(":pk", AttributeValue::S(project_id.into()))
                .select(Select::Count)
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| Error::aws("dynamodb:Query", e))?;
            total += u64::try_from(out.count).unwrap_or_default();
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(total),
            }
        }
    }

    /// Writes a page, replacing what an earlier upload of the same page left, in one
    /// transaction with a check that `project` still exists and still records the page's
    /// identity: a page processed while its project is deleted (or recreated for another
    /// identity) is not written. Returns `false` when the check failed.
    pub async fn put_page_of(&self, project: &Project, page: &PageRecord) -> Result<bool, Error> {
        let check = ConditionCheck::builder()
            .table_name(&self.projects)
            .key("username", AttributeValue::S(project.user.clone()))
            .key("project_name", AttributeValue::S(project.name.clone()))
            .condition_expression("identity_id = :identity")
            .expression_attribute_values(":identity", AttributeValue::S(page.identity_id.clone()))
            .build()
            .map_err(|e| Error::Internal(format!("condition check: {e}")))?;
        let put = Put::builder()
            .table_name(&self.pages)
            .set_item(Some(page.to_item()))
            .build()
            .map_err(|e| Error::Internal(format!("put: {e}")))?;
        let result = self
            .dynamodb
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .and_then(|s| match s {
                        TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .is_some_and(|c| {
                        c.cancellation_reasons()
                            .first()
                            .and_then(|r| r.code())
                            .is_some_and(|code| code == "ConditionalCheckFailed")
                    }) =>
            {
                Ok(false)
            }
            Err(e) => Err(Error::aws("dynamodb:TransactWriteItems", e)),
        }
    }

    /// Writes a page unconditionally, replacing what was there (for seeding tables).
    pub async fn put_page(&self, page: &PageRecord) -> Result<(), Error> {
        self.dynamodb
            .put_item()
            .table_name(&self.pages)
            .set_item(Some(page.to_item()))
            .send()
            .await
            .map_err(|e| Error::aws("dynamodb:PutItem", e))?;
        Ok(())
    }

    /// Deletes the given pages of the project: `BatchWriteItem` in chunks of 25, sending
    /// `UnprocessedItems` again with backoff. Returns how many deletes were sent.
    ///
    /// Returns [`Error::Internal`] when DynamoDB still leaves some unprocessed after every
    /// attempt; the caller fails and can be retried (deleting is idempotent).
    pub async fn delete_pages(&self, project_id: &str, pages: &[u32]) -> Result<usize, Error> {
        for chunk in pages.chunks(BATCH_WRITE_MAX) {
            let requests = chunk
                .iter()
                .map(|page| delete_request(project_id, *page))
                .collect::<Result<Vec<_>, _>>()?;
            write_all(requests, BATCH_WRITE_ATTEMPTS, |batch| async move {
                let out = self
                    .dynamodb
                    .batch_write_item()
                    .request_items(&self.pages, batch)
                    .send()
                    .await
                    .map_err(|e| Error::aws("dynamodb:BatchWriteItem", e))?;
                Ok(out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.pages))
                    .unwrap_or_default())
            })
            .await?;
        }
        Ok(pages.len())
    }

    /// Every item with partition key `value`, following `LastEvaluatedKey` to the end.
    async fn query_all(&self, table: &str, key: &str, value: &str) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let query = self
                .dynamodb
                .query()
                .table_name(table)
                // The key condition stays on every page: the next page is the same query
                // from where the last one stopped, not the whole table.
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", key)
                .expression_attribute_values(":pk", AttributeValue::S(value.into()))
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take());
            let out = query
                .send()
                .await
                .map_err(|e| Error::aws("dynamodb:Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

fn delete_request(project_id: &str, page: u32) -> Result<WriteRequest, Error> {
    let delete = DeleteRequest::builder()
        .key("project", AttributeValue::S(project_id.into()))
        .key("page", AttributeValue::N(page.to_string()))
        .build()
        .map_err(|e| Error::Internal(format!("delete request: {e}")))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

/// Sends `requests` with `send` (one `BatchWriteItem`, returning the unprocessed requests)
/// until none is left, at most `attempts` times, waiting 50 ms, 100 ms, ... (at most 2 s)
/// between attempts as AWS advises for unprocessed items.
///
/// Returns [`Error::Internal`] when some are still unprocessed after the last attempt.
pub async fn write_all<F, Fut>(
    mut requests: Vec<WriteRequest>,
    attempts: u32,
    mut send: F,
) -> Result<(), Error>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, Error>>,
{
    for attempt in 0..attempts {
        if requests.is_empty() {
            return Ok(());
        }
        if attempt > 0 {
            let wait = Duration::from_millis(50u64.saturating_mul(1 << attempt.min(10)) / 2);
            tokio::time::sleep(wait.min(Duration::from_secs(2))).await;
            tracing::info!(
                unprocessed = requests.len(),
                attempt,
                "sending unprocessed items again"
            );
        }
        requests = send(requests).await?;
    }
    if requests.is_empty() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "{} writes still unprocessed after {attempts} attempts",
            requests.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn requests(n: u32) -> Vec<WriteRequest> {
        (1..=n)
            .map(|p| delete_request("alice/p", p).expect("request"))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn unprocessed_items_are_sent_again_until_none_is_left() {
        let sent: Arc<Mutex<Vec<usize>>> = Arc::default();
        let log = Arc::clone(&sent);
        // DynamoDB leaves the last two, then the last one, then takes it.
        write_all(requests(5), 8, move |batch| {
            let log = Arc::clone(&log);
            async move {
                log.lock().expect("lock").push(batch.len());
                let keep = match batch.len() {
                    5 => 2,
                    2 => 1,
                    _ => 0,
                };
                Ok(batch[batch.len() - keep..].to_vec())
            }
        })
        .await
        .expect("written");
        assert_eq!(*sent.lock().expect("lock"), [5, 2, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_never_processed_are_an_error_not_a_silent_loss() {
        let e = write_all(requests(3), 4, |batch| async move { Ok(batch) })
            .await
            .expect_err("gave up");
        assert!(e.to_string().contains("3 writes still unprocessed"), "{e}");
    }
}
