//! Editing pipeline.toml keeps comments and order; invalid edits change nothing.

use polder_engine::spec::edit::SpecDocument;

const SPEC: &str = r#"# Header comment
[pipeline]
name = "edit"   # trailing comment

[[task]]
id = "a"
kind = "sql"
sql = "SELECT 1 AS x"   # inline SQL

# A sink, commented
[[task]]
id = "out"
kind = "sink"
input = "a"
format = "csv"
path = "out.csv"
"#;

#[test]
fn unchanged_document_round_trips_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = SpecDocument::from_text(tmp.path(), SPEC).unwrap();
    assert_eq!(doc.text(), SPEC);
}

#[test]
fn edits_touch_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pipeline.toml"), SPEC).unwrap();
    let mut doc = SpecDocument::open(tmp.path()).unwrap();
    doc.set_task_value("a", "sql", "SELECT 2 AS x").unwrap();
    doc.add_task("b", "sql", vec![("sql", "SELECT x FROM a".into())]).unwrap();
    doc.rename_task("out", "export").unwrap();
    let p = doc.save().unwrap();
    let text = std::fs::read_to_string(tmp.path().join("pipeline.toml")).unwrap();
    let want = SPEC
        .replace("sql = \"SELECT 1 AS x\"   # inline SQL", "sql = \"SELECT 2 AS x\"   # inline SQL")
        .replace("id = \"out\"", "id = \"export\"")
        + "\n[[task]]\nid = \"b\"\nkind = \"sql\"\nsql = \"SELECT x FROM a\"\n";
    assert_eq!(text, want);
    assert_eq!(p.task("b").unwrap().upstream, ["a"]);
    assert_eq!(p.tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a", "export", "b"]);
}

#[test]
fn invalid_edit_is_refused_and_the_file_is_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pipeline.toml"), SPEC).unwrap();
    let mut doc = SpecDocument::open(tmp.path()).unwrap();
    doc.set_task_value("out", "input", "missing").unwrap();
    let err = doc.save().unwrap_err().to_string();
    assert!(err.contains("task 'out' has input 'missing'"), "{err}");
    assert_eq!(std::fs::read_to_string(tmp.path().join("pipeline.toml")).unwrap(), SPEC);
    doc.remove_task("a").unwrap();
    assert!(doc.save().is_err());
}
