//! Reopening, damaged records, newer formats, double opens and file permissions, on a real
//! directory.

use chrono::Utc;
use drydock_core::design::Source;
use drydock_core::driver::BuildData;
use drydock_core::store::{
    BuildDataRecord, DesignSnapshot, JournalEntry, LeaseOutcome, Step, StepOutcome, Store,
    StoreErrorKind, TaskQuery,
};
use drydock_core::task::{Action, ContextType, MessageLevel, Task, TaskId, TaskMessage};
use drydock_store_sled::{Durability, SledConfig, SledStore};

fn open(dir: &std::path::Path) -> SledStore {
    SledStore::open(SledConfig::new(dir)).expect("open")
}

fn entry(task: TaskId, node: &str) -> JournalEntry {
    JournalEntry {
        task,
        node: Some(node.to_owned()),
        step: Step::Deploy,
        outcome: StepOutcome::Succeeded,
        attempts: 1,
        retry: 0,
        at: Utc::now(),
    }
}

fn message(text: &str) -> TaskMessage {
    TaskMessage::new(MessageLevel::Info, ContextType::Node, "n1", text)
}

/// Three tasks, each with a message and a journal entry.
async fn fill(store: &SledStore) -> Vec<Task> {
    let mut tasks = Vec::new();
    for i in 0..3 {
        let mut t = Task::new(Action::DeployNodes, "design", None, "test");
        t.result.add_message(message(&format!("created {i}")));
        store.create_task(&t).await.unwrap();
        let later = message("later");
        store.add_message(t.id, &later).await.unwrap();
        t.result.success(Some("n1"));
        store
            .record_step(&entry(t.id, "n1"), Some(&t))
            .await
            .unwrap();
        t.result.messages.push(later);
        tasks.push(t);
    }
    tasks
}

#[tokio::test]
async fn everything_is_there_after_reopening() {
    for durability in [
        Durability::FlushEveryWrite,
        Durability::GroupCommit { max_delay_ms: 1 },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = SledConfig::new(dir.path()).with_durability(durability);
        let design = DesignSnapshot::new(&[Source::new("site.yaml", "secret: hunter2\n")]);
        let (tasks, journal) = {
            let store = SledStore::open(config.clone()).unwrap();
            let tasks = fill(&store).await;
            store.put_design(&design).await.unwrap();
            store.lock_design(&design.id, tasks[0].id).await.unwrap();
            store.acquire_node("n7", tasks[1].id).await.unwrap();
            let record = BuildDataRecord {
                node: "n7".into(),
                task: tasks[1].id,
                collected: Utc::now(),
                data: BuildData {
                    generator: "lshw".into(),
                    format: "text/plain".into(),
                    data: "cpu".into(),
                },
            };
            store.put_build_data(&record).await.unwrap();
            let journal = store.journal(tasks[2].id).await.unwrap();
            (tasks, journal)
        };
        let store = SledStore::open(config).unwrap();
        for t in &tasks {
            assert_eq!(store.get_task(t.id).await.unwrap().as_ref(), Some(t));
        }
        assert_eq!(
            store.list_tasks(&TaskQuery::default()).await.unwrap().len(),
            3
        );
        assert_eq!(store.journal(tasks[2].id).await.unwrap(), journal);
        assert_eq!(
            store.get_design(&design.id).await.unwrap(),
            Some(design.clone())
        );
        assert_eq!(
            store.design_lock(&design.id).await.unwrap(),
            Some(tasks[0].id)
        );
        assert_eq!(
            store.acquire_node("n7", tasks[0].id).await.unwrap(),
            LeaseOutcome::HeldBy(tasks[1].id)
        );
        assert_eq!(store.build_data("n7").await.unwrap().len(), 1);
        // Sequence numbers go on from where they were.
        assert_eq!(
            store
                .record_step(&entry(tasks[2].id, "n2"), None)
                .await
                .unwrap(),
            2
        );
    }
}

#[tokio::test]
async fn a_damaged_task_is_reported_by_name_and_the_others_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = {
        let store = open(dir.path());
        fill(&store).await
    };
    let (bad, good) = (&tasks[1], [&tasks[0], &tasks[2]]);
    {
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("tasks").unwrap();
        tree.insert(bad.id.0.as_bytes(), &b"\x01{\"id\": not json"[..])
            .unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    let err = store
        .get_task(bad.id)
        .await
        .expect_err("a damaged task must not read");
    assert_eq!(err.kind, StoreErrorKind::Corrupt);
    assert_eq!(err.task, Some(bad.id));
    assert!(
        err.to_string().contains(&bad.id.to_string()),
        "the message names the task: {err}"
    );
    for t in good {
        assert_eq!(store.get_task(t.id).await.unwrap().as_ref(), Some(t));
    }
    let listed: Vec<TaskId> = store
        .list_tasks(&TaskQuery::default())
        .await
        .expect("listing skips the damaged task")
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(!listed.contains(&bad.id));
    let found = store.check();
    assert_eq!(found.len(), 1, "check finds exactly the damaged record");
    assert_eq!(found[0].task, Some(bad.id));
    // Its journal was not damaged and still reads.
    assert_eq!(store.journal(bad.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_damaged_journal_entry_or_message_names_its_task() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = {
        let store = open(dir.path());
        fill(&store).await
    };
    {
        let db = sled::open(dir.path()).unwrap();
        for tree in ["journal", "messages"] {
            let tree = db.open_tree(tree).unwrap();
            let mut key = tasks[0].id.0.as_bytes().to_vec();
            key.extend_from_slice(&1u64.to_be_bytes());
            assert!(
                tree.get(&key).unwrap().is_some(),
                "the record is where we expect"
            );
            tree.insert(key, &b""[..]).unwrap();
        }
        db.flush().unwrap();
    }
    let store = open(dir.path());
    for err in [
        store
            .journal(tasks[0].id)
            .await
            .expect_err("damaged journal"),
        store
            .get_task(tasks[0].id)
            .await
            .expect_err("damaged message"),
    ] {
        assert_eq!(err.kind, StoreErrorKind::Corrupt);
        assert_eq!(err.task, Some(tasks[0].id));
    }
    assert_eq!(store.journal(tasks[1].id).await.unwrap().len(), 1);
    assert_eq!(store.check().len(), 2);
}

#[tokio::test]
async fn a_newer_format_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let task = {
        let store = open(dir.path());
        fill(&store).await.remove(0)
    };
    {
        let db = sled::open(dir.path()).unwrap();
        // A record from a newer drydock: its version byte is above ours.
        let tasks = db.open_tree("tasks").unwrap();
        tasks.insert(task.id.0.as_bytes(), &b"\x07{}"[..]).unwrap();
        db.flush().unwrap();
    }
    let err = open(dir.path())
        .get_task(task.id)
        .await
        .expect_err("a newer record");
    assert_eq!(err.kind, StoreErrorKind::Incompatible);
    assert!(err.to_string().contains("7"), "{err}");
    {
        let db = sled::open(dir.path()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert("format_version", &[9u8][..]).unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(SledConfig::new(dir.path())).expect_err("a newer store");
    assert_eq!(err.kind, StoreErrorKind::Incompatible);
    let text = err.to_string();
    assert!(
        text.contains("version 9") && text.contains("up to 1"),
        "names both versions: {text}"
    );
}

#[tokio::test]
async fn opening_an_open_directory_fails_clearly() {
    for durability in [
        Durability::FlushEveryWrite,
        Durability::GroupCommit { max_delay_ms: 1 },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = SledConfig::new(dir.path()).with_durability(durability);
        let first = SledStore::open(config.clone()).unwrap();
        let err = SledStore::open(config.clone()).expect_err("the directory is locked");
        assert_eq!(err.kind, StoreErrorKind::Unavailable);
        let text = err.to_string();
        assert!(
            text.contains(&dir.path().display().to_string()),
            "names the path: {text}"
        );
        assert!(text.contains("in use"), "says why: {text}");
        drop(first);
        SledStore::open(config).expect("free again once the first store is dropped");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    fn modes(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, u32, bool)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let mode = meta.permissions().mode() & 0o777;
            out.push((entry.path(), mode, meta.is_dir()));
            if meta.is_dir() {
                modes(&entry.path(), out);
            }
        }
    }

    let parent = tempfile::tempdir().unwrap();
    let path = parent.path().join("drydock-state");
    let store = open(&path);
    fill(&store).await;
    store
        .put_design(&DesignSnapshot::new(&[Source::new("s", "password: x")]))
        .await
        .unwrap();
    store.delete_tasks_before(Utc::now()).await.unwrap();
    let root = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(root, 0o700, "the store directory");
    let mut found = Vec::new();
    modes(&path, &mut found);
    assert!(!found.is_empty());
    for (p, mode, is_dir) in found {
        let want = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{}", p.display());
    }
}
