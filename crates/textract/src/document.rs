//! A whole Textract result: blocks indexed by id and grouped by page.

use std::collections::{HashMap, HashSet};

use crate::Error;
use crate::model::{Block, BlockType, BoundingBox, RelationshipType, Response, SelectionStatus};

/// A Textract result with its blocks indexed by id and grouped into pages.
///
/// Build it from one synchronous response ([`Document::from_json`]), from every chunk of an
/// asynchronous job ([`Document::from_responses`]; a page may span chunks), or from blocks.
#[derive(Debug, Clone, Default)]
pub struct Document {
    blocks: Vec<Block>,
    index: HashMap<String, usize>,
    pages: Vec<PageIndex>,
}

#[derive(Debug, Clone)]
struct PageIndex {
    number: u32,
    page_block: Option<usize>,
    members: Vec<usize>,
}

impl Document {
    /// Indexes `blocks`. Blocks without a `Page` (single-page synchronous results) belong to
    /// page 1. Pages are ordered by number.
    ///
    /// Returns [`Error::Malformed`] when two blocks share an id.
    pub fn from_blocks(blocks: impl IntoIterator<Item = Block>) -> Result<Self, Error> {
        let blocks: Vec<Block> = blocks.into_iter().collect();
        let mut index = HashMap::with_capacity(blocks.len());
        let mut pages: Vec<PageIndex> = Vec::new();
        let mut page_slot: HashMap<u32, usize> = HashMap::new();
        for (i, block) in blocks.iter().enumerate() {
            if index.insert(block.id.clone(), i).is_some() {
                return Err(Error::Malformed(format!(
                    "duplicate block id {:?}",
                    block.id
                )));
            }
            let number = block.page.unwrap_or(1);
            let slot = *page_slot.entry(number).or_insert_with(|| {
                pages.push(PageIndex {
                    number,
                    page_block: None,
                    members: Vec::new(),
                });
                pages.len() - 1
            });
            let page = &mut pages[slot];
            page.members.push(i);
            if block.block_type == BlockType::Page && page.page_block.is_none() {
                page.page_block = Some(i);
            }
        }
        pages.sort_by_key(|p| p.number);
        Ok(Self {
            blocks,
            index,
            pages,
        })
    }

    /// Joins the chunks of one result (every `Get*` response of a job, in order).
    pub fn from_responses(responses: impl IntoIterator<Item = Response>) -> Result<Self, Error> {
        Self::from_blocks(responses.into_iter().flat_map(|r| r.blocks))
    }

    /// Parses one response's JSON (see [`Response::from_json`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_responses([Response::from_json(bytes)?])
    }

    /// Every block, in the service's order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The block with this id.
    pub fn get(&self, id: &str) -> Option<&Block> {
        self.index.get(id).map(|&i| &self.blocks[i])
    }

    /// The pages, ordered by number.
    pub fn pages(&self) -> impl ExactSizeIterator<Item = Page<'_>> {
        self.pages
            .iter()
            .map(move |index| Page { doc: self, index })
    }

    /// The number of pages that have at least one block.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The page with this 1-based number.
    pub fn page(&self, number: u32) -> Option<Page<'_>> {
        self.pages().find(|p| p.number() == number)
    }

    /// The blocks `block` links to with relationships of `kind`, skipping ids that are not in
    /// the document.
    pub fn related<'a>(
        &'a self,
        block: &'a Block,
        kind: &'a RelationshipType,
    ) -> impl Iterator<Item = &'a Block> {
        block.related(kind).filter_map(move |id| self.get(id))
    }

    /// The text of a block: its own text when it has some (words, lines), otherwise its children
    /// joined by spaces, with check boxes as `[X]` / `[ ]`.
    ///
    /// Each block is read once per call, so relationships that loop back (never sent by
    /// Textract, but possible in hand-edited or hostile JSON) end instead of recursing forever.
    pub fn text_of(&self, block: &Block) -> String {
        self.text_once(block, &mut HashSet::new())
    }

    fn text_once<'a>(&'a self, block: &'a Block, seen: &mut HashSet<&'a str>) -> String {
        if let Some(text) = &block.text {
            return text.clone();
        }
        if !seen.insert(block.id.as_str()) {
            return String::new();
        }
        let mut out = String::new();
        for child in self.related(block, &RelationshipType::Child) {
            let piece = match child.block_type {
                BlockType::Word | BlockType::Line => child.text.clone().unwrap_or_default(),
                BlockType::SelectionElement => match child.selection_status {
                    Some(SelectionStatus::Selected) => "[X]".to_owned(),
                    _ => "[ ]".to_owned(),
                },
                BlockType::Cell | BlockType::MergedCell => self.text_once(child, seen),
                _ => continue,
            };
            if piece.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&piece);
        }
        out
    }

    /// The text of every page in reading order, pages separated by a blank line.
    pub fn text(&self) -> String {
        self.pages()
            .map(|p| p.text())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Markdown of every page, pages separated by a thematic break.
    pub fn markdown(&self) -> String {
        self.pages()
            .map(|p| p.markdown())
            .collect::<Vec<_>>()
            .join("\n\n---\n\n")
    }
}

/// One page of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    doc: &'a Document,
    index: &'a PageIndex,
}

impl<'a> Page<'a> {
    /// The 1-based page number.
    pub fn number(&self) -> u32 {
        self.index.number
    }

    /// The document this page belongs to.
    pub fn document(&self) -> &'a Document {
        self.doc
    }

    /// The `PAGE` block, when the result has one.
    pub fn block(&self) -> Option<&'a Block> {
        self.index.page_block.map(|i| &self.doc.blocks[i])
    }

    /// Every block on this page, in the service's order.
    pub fn blocks(&self) -> impl Iterator<Item = &'a Block> + 'a {
        let doc = self.doc;
        self.index.members.iter().map(move |&i| &doc.blocks[i])
    }

    /// The blocks of one type on this page, in the service's order.
    pub fn of_type(&self, kind: BlockType) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks().filter(move |b| b.block_type == kind)
    }

    /// The `WORD` blocks on this page.
    pub fn words(&self) -> impl Iterator<Item = &'a Block> + 'a {
        self.of_type(BlockType::Word)
    }

    /// The `LINE` blocks on this page, in the service's order.
    pub fn lines(&self) -> impl Iterator<Item = &'a Block> + 'a {
        self.of_type(BlockType::Line)
    }

    /// The page's tables, with cells, merged cells, titles and footers.
    pub fn tables(&self) -> Vec<Table> {
        self.of_type(BlockType::Table)
            .map(|t| Table::build(self.doc, t))
            .collect()
    }

    /// The page's form fields (key → value), in the service's order.
    pub fn key_values(&self) -> Vec<KeyValue> {
        self.of_type(BlockType::KeyValueSet)
            .filter(|b| b.has_entity("KEY"))
            .map(|key| {
                let value = self.doc.related(key, &RelationshipType::Value).next();
                let selected = value.and_then(|v| {
                    self.doc
                        .related(v, &RelationshipType::Child)
                        .find(|c| c.block_type == BlockType::SelectionElement)
                        .map(|c| c.selection_status == Some(SelectionStatus::Selected))
                });
                KeyValue {
                    key: self.doc.text_of(key),
                    value: value.map(|v| self.doc.text_of(v)).unwrap_or_default(),
                    selected,
                    confidence: key.confidence,
                    key_box: key.bbox(),
                    value_box: value.map(Block::bbox),
                }
            })
            .collect()
    }

    /// The answers to the queries sent with `AnalyzeDocument` (`QUERIES`), in the service's
    /// order; a question Textract found no answer for has `answer: None`.
    pub fn query_answers(&self) -> Vec<QueryAnswer> {
        self.of_type(BlockType::Query)
            .filter_map(|q| {
                let query = q.query.as_ref()?;
                let result = self.doc.related(q, &RelationshipType::Answer).next();
                Some(QueryAnswer {
                    question: query.text.clone(),
                    alias: query.alias.clone(),
                    answer: result.and_then(|r| r.text.clone()),
                    confidence: result.and_then(|r| r.confidence),
                })
            })
            .collect()
    }

    /// The lines in reading order: by the page's `LAYOUT_*` blocks when the result has them
    /// (lines outside every layout block follow, column-aware), otherwise column-aware: columns
    /// separated by a vertical gutter are read one after the other, and lines spanning the
    /// columns (titles, headers, footers) split the page into bands read top to bottom.
    pub fn reading_order(&self) -> Vec<&'a Block> {
        self.regions().into_iter().flat_map(|r| r.lines).collect()
    }

    /// The page as regions (layout blocks, or column-aware groups), in reading order.
    pub fn regions(&self) -> Vec<Region<'a>> {
        crate::order::regions(*self)
    }

    /// Plain text in reading order: a region's lines one per line, regions separated by a blank
    /// line.
    pub fn text(&self) -> String {
        let regions = self.regions();
        let mut parts = Vec::with_capacity(regions.len());
        for r in regions {
            let text = r
                .lines
                .iter()
                .filter_map(|l| l.text.as_deref())
                .collect::<Vec<_>>()
                .join("\n");
            if !text.is_empty() {
                parts.push(text);
            }
        }
        parts.join("\n\n")
    }

    /// Markdown in reading order: titles and section headers as headings, lists as lists,
    /// layout tables as Markdown tables (from the `TABLE` block they cover), page headers,
    /// footers and page numbers left out.
    pub fn markdown(&self) -> String {
        crate::order::markdown(*self)
    }
}

/// A group of lines read together: one layout block, or one column-aware group.
#[derive(Debug, Clone)]
pub struct Region<'a> {
    /// The layout type, or `None` for a group found without layout.
    pub kind: Option<BlockType>,
    /// The layout block itself.
    pub block: Option<&'a Block>,
    /// The lines, in reading order.
    pub lines: Vec<&'a Block>,
    /// For lists: the lines of each item.
    pub items: Vec<Vec<&'a Block>>,
}

/// A table with its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The `TABLE` block's id.
    pub id: String,
    /// The number of rows.
    pub rows: u32,
    /// The number of columns.
    pub columns: u32,
    /// The cells, as the service returns them (each one row and one column).
    pub cells: Vec<Cell>,
    /// Merged regions: `(row, column, row_span, column_span)`, 1-based.
    pub merged: Vec<(u32, u32, u32, u32)>,
    /// The title's text, when the table has one.
    pub title: Option<String>,
    /// The footers' text.
    pub footers: Vec<String>,
    /// Where the table is.
    pub bbox: BoundingBox,
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// 1-based row.
    pub row: u32,
    /// 1-based column.
    pub column: u32,
    /// Rows spanned.
    pub row_span: u32,
    /// Columns spanned.
    pub column_span: u32,
    /// The cell's words joined by spaces (check boxes as `[X]` / `[ ]`).
    pub text: String,
    /// Whether Textract marked it as a column header.
    pub header: bool,
    /// Confidence from 0 to 100.
    pub confidence: Option<f64>,
}

impl Table {
    fn build(doc: &Document, table: &Block) -> Self {
        let mut cells = Vec::new();
        let mut merged = Vec::new();
        for child in doc.related(table, &RelationshipType::Child) {
            if child.block_type == BlockType::Cell {
                cells.push(Cell {
                    row: child.row_index.unwrap_or(1).max(1),
                    column: child.column_index.unwrap_or(1).max(1),
                    row_span: child.row_span.unwrap_or(1).max(1),
                    column_span: child.column_span.unwrap_or(1).max(1),
                    text: doc.text_of(child),
                    header: child.has_entity("COLUMN_HEADER"),
                    confidence: child.confidence,
                });
            }
        }
        for m in doc.related(table, &RelationshipType::MergedCell) {
            merged.push((
                m.row_index.unwrap_or(1).max(1),
                m.column_index.unwrap_or(1).max(1),
                m.row_span.unwrap_or(1).max(1),
                m.column_span.unwrap_or(1).max(1),
            ));
        }
        let rows = cells
            .iter()
            .map(|c| c.row.saturating_add(c.row_span - 1))
            .max()
            .unwrap_or(0);
        let columns = cells
            .iter()
            .map(|c| c.column.saturating_add(c.column_span - 1))
            .max()
            .unwrap_or(0);
        let title = doc
            .related(table, &RelationshipType::TableTitle)
            .map(|t| doc.text_of(t))
            .next();
        let footers = doc
            .related(table, &RelationshipType::TableFooter)
            .map(|t| doc.text_of(t))
            .collect();
        Self {
            id: table.id.clone(),
            rows,
            columns,
            cells,
            merged,
            title,
            footers,
            bbox: table.bbox(),
        }
    }

    /// The table as rows of strings. A merged region's text (its cells' text joined by spaces)
    /// sits in its top-left position; the positions it covers are empty.
    pub fn grid(&self) -> Vec<Vec<String>> {
        // Bounded by the cells present, so a hostile RowIndex cannot allocate a huge grid.
        let rows = (self.rows as usize).min(self.cells.len());
        let columns = (self.columns as usize).min(self.cells.len());
        let mut grid = vec![vec![String::new(); columns]; rows];
        for c in &self.cells {
            if let Some(slot) = grid
                .get_mut(c.row as usize - 1)
                .and_then(|r| r.get_mut(c.column as usize - 1))
            {
                *slot = c.text.clone();
            }
        }
        for &(row, col, row_span, col_span) in &self.merged {
            let mut parts = Vec::new();
            let row_end = row.saturating_add(row_span).min(rows as u32 + 1);
            let col_end = col.saturating_add(col_span).min(columns as u32 + 1);
            for r in row..row_end {
                for c in col..col_end {
                    if let Some(slot) = grid
                        .get_mut(r as usize - 1)
                        .and_then(|x| x.get_mut(c as usize - 1))
                        && !slot.is_empty()
                    {
                        parts.push(std::mem::take(slot));
                    }
                }
            }
            if let Some(slot) = grid
                .get_mut(row as usize - 1)
                .and_then(|x| x.get_mut(col as usize - 1))
            {
                *slot = parts.join(" ");
            }
        }
        grid
    }

    /// The table as a GitHub-flavoured Markdown table; the first row is the header row.
    pub fn markdown(&self) -> String {
        let grid = self.grid();
        let mut out = String::new();
        for (i, row) in grid.iter().enumerate() {
            out.push('|');
            for cell in row {
                out.push(' ');
                out.push_str(
                    &crate::order::escape_markdown(cell)
                        .replace('|', "\\|")
                        .replace('\n', " "),
                );
                out.push_str(" |");
            }
            out.push('\n');
            if i == 0 {
                out.push('|');
                for _ in row {
                    out.push_str(" --- |");
                }
                out.push('\n');
            }
        }
        out
    }
}

/// A query and Textract's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryAnswer {
    /// The question asked.
    pub question: String,
    /// The alias the caller gave it.
    pub alias: Option<String>,
    /// The answer's text, when Textract found one.
    pub answer: Option<String>,
    /// The answer's confidence from 0 to 100.
    pub confidence: Option<f64>,
}

/// One form field.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    /// The key's text.
    pub key: String,
    /// The value's text (empty when Textract found none).
    pub value: String,
    /// For check boxes: whether the value is marked.
    pub selected: Option<bool>,
    /// The key's confidence from 0 to 100.
    pub confidence: Option<f64>,
    /// Where the key is.
    pub key_box: BoundingBox,
    /// Where the value is.
    pub value_box: Option<BoundingBox>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_ids_are_an_error() {
        let b = Block::new("x", BlockType::Word);
        assert!(matches!(
            Document::from_blocks([b.clone(), b]),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn blocks_group_by_page_across_chunks() {
        let mut a = Block::new("a", BlockType::Page);
        a.page = Some(2);
        let mut b = Block::new("b", BlockType::Page);
        b.page = Some(1);
        let mut c = Block::new("c", BlockType::Word);
        c.page = Some(2);
        let doc = Document::from_responses([
            Response {
                blocks: vec![a],
                ..Response::default()
            },
            Response {
                blocks: vec![b, c],
                ..Response::default()
            },
        ])
        .unwrap();
        let pages: Vec<_> = doc
            .pages()
            .map(|p| (p.number(), p.blocks().count()))
            .collect();
        assert_eq!(pages, [(1, 1), (2, 2)]);
        assert_eq!(doc.page(2).unwrap().block().unwrap().id, "a");
    }

    #[test]
    fn hostile_table_indices_do_not_allocate_or_panic() {
        let mut t = Block::new("t", BlockType::Table);
        t.relationships.push(crate::model::Relationship {
            kind: RelationshipType::Child,
            ids: vec!["c".into()],
        });
        t.relationships.push(crate::model::Relationship {
            kind: RelationshipType::MergedCell,
            ids: vec!["m".into()],
        });
        let mut c = Block::new("c", BlockType::Cell);
        c.row_index = Some(u32::MAX / 2);
        c.column_index = Some(u32::MAX / 2);
        c.row_span = Some(u32::MAX);
        c.text = Some("x".into());
        let mut m = Block::new("m", BlockType::MergedCell);
        m.row_index = Some(1);
        m.column_index = Some(1);
        m.row_span = Some(u32::MAX);
        m.column_span = Some(u32::MAX);
        let doc = Document::from_blocks([t, c, m]).unwrap();
        let table = &doc.page(1).unwrap().tables()[0];
        assert_eq!(table.grid().len(), 1);
        let _ = table.markdown();
    }

    #[test]
    fn cells_that_contain_each_other_read_once_instead_of_recursing() {
        let child = |ids: &[&str]| crate::model::Relationship {
            kind: RelationshipType::Child,
            ids: ids.iter().map(|&i| i.to_owned()).collect(),
        };
        let mut a = Block::new("a", BlockType::MergedCell);
        a.relationships.push(child(&["b", "w"]));
        let mut b = Block::new("b", BlockType::Cell);
        b.relationships.push(child(&["a", "b", "v"]));
        let mut w = Block::new("w", BlockType::Word);
        w.text = Some("left".into());
        let mut v = Block::new("v", BlockType::Word);
        v.text = Some("right".into());
        let doc = Document::from_blocks([a, b, w, v]).unwrap();
        assert_eq!(doc.text_of(doc.get("a").unwrap()), "right left");
        assert_eq!(doc.text_of(doc.get("b").unwrap()), "left right");
    }
}
