//! The blocks Textract returns, as typed Rust values.
//!
//! These types deserialize the JSON the service returns (`DetectDocumentText`, `AnalyzeDocument`,
//! `GetDocumentTextDetection`, `GetDocumentAnalysis`) and are built from `aws-sdk-textract`
//! output by the `jobs` module. Block and relationship types this crate does not know are kept
//! as `Other(name)`, never dropped, so a newer service response still parses.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version of the crate does not know, kept as the service spelled it.
            Other(String),
        }

        impl $name {
            /// The name the service uses, e.g. `"LINE"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}

string_enum! {
    /// What a block is (`BlockType`).
    BlockType {
        /// One page of the document.
        Page = "PAGE",
        /// A line of words.
        Line = "LINE",
        /// One word.
        Word = "WORD",
        /// A table.
        Table = "TABLE",
        /// A cell of a table.
        Cell = "CELL",
        /// Cells merged into one.
        MergedCell = "MERGED_CELL",
        /// A table's title.
        TableTitle = "TABLE_TITLE",
        /// A table's footer.
        TableFooter = "TABLE_FOOTER",
        /// A form key or value.
        KeyValueSet = "KEY_VALUE_SET",
        /// A check box or radio button.
        SelectionElement = "SELECTION_ELEMENT",
        /// A signature.
        Signature = "SIGNATURE",
        /// A query sent with `AnalyzeDocument`.
        Query = "QUERY",
        /// The answer to a query.
        QueryResult = "QUERY_RESULT",
        /// Layout: the document title.
        LayoutTitle = "LAYOUT_TITLE",
        /// Layout: a page header.
        LayoutHeader = "LAYOUT_HEADER",
        /// Layout: a page footer.
        LayoutFooter = "LAYOUT_FOOTER",
        /// Layout: a section header.
        LayoutSectionHeader = "LAYOUT_SECTION_HEADER",
        /// Layout: a page number.
        LayoutPageNumber = "LAYOUT_PAGE_NUMBER",
        /// Layout: a list (its children are `LAYOUT_TEXT` items).
        LayoutList = "LAYOUT_LIST",
        /// Layout: a figure.
        LayoutFigure = "LAYOUT_FIGURE",
        /// Layout: a table.
        LayoutTable = "LAYOUT_TABLE",
        /// Layout: key-value pairs.
        LayoutKeyValue = "LAYOUT_KEY_VALUE",
        /// Layout: a paragraph.
        LayoutText = "LAYOUT_TEXT",
    }
}

impl BlockType {
    /// Whether this is one of the `LAYOUT_*` types (including unknown future ones).
    pub fn is_layout(&self) -> bool {
        self.as_str().starts_with("LAYOUT_")
    }
}

string_enum! {
    /// How one block relates to others (`Relationship.Type`).
    RelationshipType {
        /// Contained blocks (a line's words, a page's lines).
        Child = "CHILD",
        /// A key's value.
        Value = "VALUE",
        /// Extra features of a block.
        ComplexFeatures = "COMPLEX_FEATURES",
        /// Cells a merged cell covers.
        MergedCell = "MERGED_CELL",
        /// A table's title.
        Title = "TITLE",
        /// A query's answer.
        Answer = "ANSWER",
        /// The table a title or footer belongs to.
        Table = "TABLE",
        /// A table's title block.
        TableTitle = "TABLE_TITLE",
        /// A table's footer block.
        TableFooter = "TABLE_FOOTER",
    }
}

string_enum! {
    /// Whether a word was printed or handwritten.
    TextType {
        /// Handwriting.
        Handwriting = "HANDWRITING",
        /// Printed text.
        Printed = "PRINTED",
    }
}

string_enum! {
    /// Whether a selection element is marked.
    SelectionStatus {
        /// Marked.
        Selected = "SELECTED",
        /// Not marked.
        NotSelected = "NOT_SELECTED",
    }
}

/// An axis-aligned box, each value a ratio of the page's width or height (0.0 to 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BoundingBox {
    /// Width as a ratio of the page width.
    pub width: f64,
    /// Height as a ratio of the page height.
    pub height: f64,
    /// Left edge as a ratio of the page width.
    pub left: f64,
    /// Top edge as a ratio of the page height.
    pub top: f64,
}

impl BoundingBox {
    /// Right edge.
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &Self) -> Self {
        let left = self.left.min(other.left);
        let top = self.top.min(other.top);
        Self {
            left,
            top,
            width: self.right().max(other.right()) - left,
            height: self.bottom().max(other.bottom()) - top,
        }
    }

    /// Intersection over union of two boxes (0.0 when they do not overlap).
    pub fn iou(&self, other: &Self) -> f64 {
        let w = (self.right().min(other.right()) - self.left.max(other.left)).max(0.0);
        let h = (self.bottom().min(other.bottom()) - self.top.max(other.top)).max(0.0);
        let inter = w * h;
        let union = self.width * self.height + other.width * other.height - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }
}

/// One corner of a polygon, as ratios of the page's width and height.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Point {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position (down from the top).
    pub y: f64,
}

/// Where a block is on its page.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Geometry {
    /// The axis-aligned box.
    #[serde(default, deserialize_with = "nullable")]
    pub bounding_box: BoundingBox,
    /// The block's corners in the block's own orientation: top-left, top-right, bottom-right,
    /// bottom-left of the text as read, so a rotated word's polygon is rotated too.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub polygon: Vec<Point>,
}

impl Geometry {
    /// The text direction in degrees, counter-clockwise in the usual maths sense on an upright
    /// page (0 for normal text, 90 for text read bottom to top, 180 upside down, 270 read top to
    /// bottom), from the polygon's top edge. Returns 0 when the polygon is missing.
    pub fn angle_degrees(&self) -> f64 {
        match self.polygon.as_slice() {
            [a, b, ..] => {
                let (dx, dy) = (b.x - a.x, b.y - a.y);
                if dx == 0.0 && dy == 0.0 {
                    return 0.0;
                }
                // y grows downwards in Textract's space; flip it for a maths angle.
                (-dy).atan2(dx).to_degrees().rem_euclid(360.0)
            }
            _ => 0.0,
        }
    }
}

/// Links from one block to others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Relationship {
    /// What the link means.
    #[serde(rename = "Type")]
    pub kind: RelationshipType,
    /// The linked blocks' ids, in the service's order.
    #[serde(default, deserialize_with = "nullable")]
    pub ids: Vec<String>,
}

/// One block of a Textract response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Block {
    /// The block's id, unique within one document.
    pub id: String,
    /// What the block is.
    pub block_type: BlockType,
    /// The recognised text (words and lines; query text lives in `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Printed or handwritten (words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_type: Option<TextType>,
    /// Confidence from 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Where the block is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<Geometry>,
    /// Links to other blocks.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relationships: Vec<Relationship>,
    /// The page (1-based) in multi-page results; absent from single-page synchronous results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Table cells: 1-based row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_index: Option<u32>,
    /// Table cells: 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_index: Option<u32>,
    /// Table cells: rows spanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_span: Option<u32>,
    /// Table cells: columns spanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_span: Option<u32>,
    /// `KEY`/`VALUE` for form blocks, `COLUMN_HEADER`, `TABLE_TITLE`, ... for cells and tables.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub entity_types: Vec<String>,
    /// Check boxes: marked or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_status: Option<SelectionStatus>,
    /// Query blocks: the question and its alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
}

impl Block {
    /// A block of the given type and id with everything else empty (for building blocks by
    /// hand, e.g. in tests or when converting from another representation).
    pub fn new(id: impl Into<String>, block_type: BlockType) -> Self {
        Self {
            id: id.into(),
            block_type,
            text: None,
            text_type: None,
            confidence: None,
            geometry: None,
            relationships: Vec::new(),
            page: None,
            row_index: None,
            column_index: None,
            row_span: None,
            column_span: None,
            entity_types: Vec::new(),
            selection_status: None,
            query: None,
        }
    }

    /// The ids linked by relationships of `kind`, in order.
    pub fn related(&self, kind: &RelationshipType) -> impl Iterator<Item = &str> {
        self.relationships
            .iter()
            .filter(move |r| &r.kind == kind)
            .flat_map(|r| r.ids.iter().map(String::as_str))
    }

    /// The ids of this block's children, in order.
    pub fn children(&self) -> impl Iterator<Item = &str> {
        self.related(&RelationshipType::Child)
    }

    /// Whether `entity_types` holds `entity` (e.g. `"KEY"`).
    pub fn has_entity(&self, entity: &str) -> bool {
        self.entity_types.iter().any(|e| e == entity)
    }

    /// The bounding box, or an empty box at the origin when the block has no geometry.
    pub fn bbox(&self) -> BoundingBox {
        self.geometry
            .as_ref()
            .map(|g| g.bounding_box)
            .unwrap_or_default()
    }
}

/// A query sent to `AnalyzeDocument` with the `QUERIES` feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Query {
    /// The question.
    pub text: String,
    /// The alias the caller gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// A warning attached to a job that finished with `PARTIAL_SUCCESS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Warning {
    /// The error code, e.g. `"UnsupportedDocumentException"`.
    #[serde(default, deserialize_with = "nullable")]
    pub error_code: String,
    /// The pages it concerns.
    #[serde(default, deserialize_with = "nullable")]
    pub pages: Vec<u32>,
}

string_enum! {
    /// The state of an asynchronous job.
    JobStatus {
        /// Still running.
        InProgress = "IN_PROGRESS",
        /// Finished.
        Succeeded = "SUCCEEDED",
        /// Failed; `status_message` says why.
        Failed = "FAILED",
        /// Finished with warnings: some pages were not processed.
        PartialSuccess = "PARTIAL_SUCCESS",
    }
}

/// Document metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentMetadata {
    /// The number of pages in the whole document.
    #[serde(default, deserialize_with = "nullable")]
    pub pages: u32,
}

/// One response as the service returns it: the whole result of a synchronous call, or one
/// chunk (up to `MaxResults` blocks) of an asynchronous job's result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// Page count.
    #[serde(default, deserialize_with = "nullable")]
    pub document_metadata: DocumentMetadata,
    /// The blocks of this chunk.
    #[serde(default, deserialize_with = "nullable")]
    pub blocks: Vec<Block>,
    /// Job state (asynchronous jobs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
    /// Why a job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Warnings of a `PARTIAL_SUCCESS` job.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub warnings: Vec<Warning>,
    /// The token for the next chunk; `None` on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl Response {
    /// Parses a response from the JSON the service (or `boto3`, or the AWS CLI) returns. Extra
    /// fields such as `ResponseMetadata` are ignored.
    ///
    /// Returns [`Error::InvalidResponse`] when the bytes are not such JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(Error::InvalidResponse)
    }
}

/// A field the service (or a serialiser such as boto3's or Jackson's) may send as `null`: read
/// as the empty value, like a missing field.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_are_kept() {
        let json = br#"{"Blocks":[{"Id":"a","BlockType":"LAYOUT_FUTURE","Relationships":[{"Type":"NEW_KIND","Ids":["b"]}]}]}"#;
        let r = Response::from_json(json).unwrap();
        assert_eq!(
            r.blocks[0].block_type,
            BlockType::Other("LAYOUT_FUTURE".into())
        );
        assert!(r.blocks[0].block_type.is_layout());
        assert_eq!(r.blocks[0].relationships[0].kind.as_str(), "NEW_KIND");
        let back = serde_json::to_string(&r.blocks[0]).unwrap();
        assert!(back.contains("\"LAYOUT_FUTURE\"") && back.contains("\"NEW_KIND\""));
    }

    #[test]
    fn nulls_read_as_missing() {
        let json =
            br#"{"Blocks":[{"Id":"a","BlockType":"WORD","EntityTypes":null,"Relationships":null,
            "Geometry":{"BoundingBox":null,"Polygon":null},"Confidence":null,"Page":null}],
            "Warnings":null,"DocumentMetadata":null,"NextToken":null}"#;
        let r = Response::from_json(json).unwrap();
        assert!(r.blocks[0].relationships.is_empty() && r.blocks[0].entity_types.is_empty());
        assert!(r.blocks[0].geometry.as_ref().unwrap().polygon.is_empty());
        assert_eq!(r.document_metadata.pages, 0);
    }

    #[test]
    fn angle_follows_the_polygon() {
        let g = |pts: [(f64, f64); 2]| Geometry {
            bounding_box: BoundingBox::default(),
            polygon: pts.iter().map(|&(x, y)| Point { x, y }).collect(),
        };
        assert!((g([(0.1, 0.5), (0.3, 0.5)]).angle_degrees() - 0.0).abs() < 1e-9);
        // Read bottom to top: the top edge goes up the page.
        assert!((g([(0.5, 0.5), (0.5, 0.3)]).angle_degrees() - 90.0).abs() < 1e-9);
        assert!((g([(0.3, 0.5), (0.1, 0.5)]).angle_degrees() - 180.0).abs() < 1e-9);
        assert!((g([(0.5, 0.3), (0.5, 0.5)]).angle_degrees() - 270.0).abs() < 1e-9);
    }

    #[test]
    fn iou_of_boxes() {
        let a = BoundingBox {
            left: 0.0,
            top: 0.0,
            width: 1.0,
            height: 1.0,
        };
        let b = BoundingBox {
            left: 0.5,
            top: 0.0,
            width: 1.0,
            height: 1.0,
        };
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(a.iou(&BoundingBox { left: 2.0, ..a }), 0.0);
    }
}
