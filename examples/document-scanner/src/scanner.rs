//! The scanner's clients and settings, and what the project functions do (FetchProjects,
//! CreateProject, DeleteProject, FetchPageCount) without HTTP.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{
    Project, check_identity_id, check_project_name, check_user, export_prefix, image_prefix,
    textract_prefix,
};
use crate::objects::Objects;
use crate::store::Store;
use crate::{Config, Error};

/// The clients (injected: S3 and DynamoDB) and the settings every function uses.
#[derive(Debug, Clone)]
pub struct Scanner {
    config: Config,
    store: Store,
    objects: Objects,
}

/// What DeleteProject removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    /// Page items.
    pub pages: usize,
    /// S3 objects: images, Textract results, exported PDFs.
    pub objects: usize,
}

impl Scanner {
    /// A scanner over the given clients.
    pub fn new(config: Config, s3: aws_sdk_s3::Client, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        let store = Store::new(
            dynamodb,
            &config.projects_table,
            &config.pages_table,
            config.query_page_size,
        );
        let objects = Objects::new(s3, &config.bucket, config.list_page_size);
        Self {
            config,
            store,
            objects,
        }
    }

    /// A scanner configured from the process environment (see [`Config`]) with clients from
    /// `sdk`.
    ///
    /// Returns [`Error::Config`] when a setting is missing or invalid.
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self, Error> {
        let config = Config::from_env(|k| std::env::var(k).ok())?;
        Ok(Self::new(
            config,
            aws_sdk_s3::Client::new(sdk),
            aws_sdk_dynamodb::Client::new(sdk),
        ))
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The tables.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The bucket.
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// FetchProjects: every project of `user` (all result pages of a `Query` on the user; other
    /// users' projects are never read).
    pub async fn projects(&self, user: &str) -> Result<Vec<Project>, Error> {
        check_user(user)?;
        self.store.projects(user).await
    }

    /// CreateProject: a new project of `user`, whose pages the Cognito identity `identity_id`
    /// uploads (`private/{identity_id}/{user}/{name}/{page}.png`).
    ///
    /// Returns [`Error::BadRequest`] for a bad name or identity id, [`Error::Conflict`] when the
    /// project exists (it is not overwritten).
    pub async fn create_project(
        &self,
        user: &str,
        name: &str,
        identity_id: &str,
    ) -> Result<Project, Error> {
        check_user(user)?;
        check_project_name(name)?;
        check_identity_id(identity_id)?;
        let project = Project {
            user: user.to_owned(),
            name: name.to_owned(),
            identity_id: identity_id.to_owned(),
            created_at: now(),
        };
        self.store.create_project(&project).await?;
        Ok(project)
    }

    /// The project, or [`Error::NotFound`].
    pub async fn project(&self, user: &str, name: &str) -> Result<Project, Error> {
        check_user(user)?;
        check_project_name(name)?;
        self.store
            .project(user, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("project {name:?}")))
    }

    /// FetchPageCount: how many pages the project has (a counting `Query` over every result
    /// page). Returns [`Error::NotFound`] when there is no such project.
    pub async fn page_count(&self, user: &str, name: &str) -> Result<u64, Error> {
        let project = self.project(user, name).await?;
        self.store.page_count(&project.id()).await
    }

    /// DeleteProject: every object under the project's prefixes (all `ListObjectsV2` pages,
    /// `DeleteObjects` in chunks of 1000) and every page item (all result pages,
    /// `BatchWriteItem` in chunks of 25), then the project item, so a delete that fails half-way
    /// can be run again; then one more sweep for a page stored meanwhile.
    ///
    /// Returns [`Error::NotFound`] when there is no such project.
    pub async fn delete_project(&self, user: &str, name: &str) -> Result<Deleted, Error> {
        let project = self.project(user, name).await?;
        let mut deleted = self.delete_contents(&project).await?;
        self.store.delete_project(user, name).await?;
        // ProcessDocument writes a page only while the project exists (a transaction checks
        // it), so once the item is gone nothing new can arrive: one more sweep catches a page
        // stored between the first sweep and the item's delete.
        let late = self.delete_contents(&project).await?;
        deleted.pages += late.pages;
        deleted.objects += late.objects;
        tracing::info!(
            project = %project.id(),
            pages = deleted.pages,
            objects = deleted.objects,
            "project deleted"
        );
        Ok(deleted)
    }

    /// Deletes the project's page items and objects (not the project item).
    async fn delete_contents(&self, project: &Project) -> Result<Deleted, Error> {
        let (user, name) = (project.user.as_str(), project.name.as_str());
        let id = project.id();
        let pages = self.store.pages(&id).await?;
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for prefix in [
            image_prefix(&project.identity_id, user, name),
            textract_prefix(&project.identity_id, user, name),
            export_prefix(user, name),
        ] {
            keys.extend(self.objects.list(&prefix).await?);
        }
        // Every page's own keys too, in case one was stored under another layout.
        for page in &pages {
            keys.insert(page.image_key.clone());
            keys.insert(page.textract_key.clone());
        }
        let keys: Vec<String> = keys.into_iter().collect();
        let objects = if keys.is_empty() {
            0
        } else {
            self.objects.delete(&keys).await?
        };
        let numbers: Vec<u32> = pages.iter().map(|p| p.page).collect();
        let pages = self.store.delete_pages(&id, &numbers).await?;
        Ok(Deleted { pages, objects })
    }
}

/// Now, RFC 3339 in UTC.
pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
