//! Org watch lists, the monitor's saved state and its alerts (issue 20 §3, migration
//! 0013), one suite on every database: a list is set and replaced keeping the state; the
//! state is saved by compare-and-set on its sequence number (of two replicas saving from
//! the same read, exactly one wins, also when they race); alerts are recorded once per
//! org and digest (two replicas recording the same batch at once record each alert once,
//! another org records its own), pruned to the newest `MAX_ALERTS_PER_ORG`, read newest
//! first in pages; a second process sees the same.

use hallmark_store::{MAX_ALERTS_PER_ORG, NewAlert};

use crate::backends::{Db, on_every_backend};

on_every_backend!(watch_lists_and_alerts, replicas_racing_on_one_watch);

fn alert(n: usize) -> NewAlert {
    NewAlert {
        dedup: format!("d{n}"),
        log_index: Some(n as i64),
        kind: "unexpected-issuer".into(),
        alert_json: format!("{{\"log_index\": {n}}}"),
    }
}

async fn watch_lists_and_alerts(db: &Db) {
    let s = db.open().await;
    let owner = s.create_user("o", None, None, false).await.unwrap();
    let org = s.create_org("acme", owner.id).await.unwrap();
    let other = s.create_org("beta", owner.id).await.unwrap();
    assert_eq!(s.org_watch(org.id).await.unwrap(), None);
    assert!(
        !s.save_watch_state(org.id, 0, "{}").await.unwrap(),
        "no list, nothing to save into"
    );
    s.set_org_watch(other.id, "{\"rules\": [1]}", "o")
        .await
        .unwrap();
    s.set_org_watch(org.id, "{\"rules\": []}", "o")
        .await
        .unwrap();
    let w = s.org_watch(org.id).await.unwrap().unwrap();
    assert_eq!(
        (
            w.org_id,
            w.org.as_str(),
            w.rules_json.as_str(),
            w.state_json.as_deref(),
            w.state_seq,
            w.updated_by.as_str()
        ),
        (org.id, "acme", "{\"rules\": []}", None, 0, "o")
    );
    assert!(w.updated_at > 1_700_000_000, "{}", w.updated_at);
    let all: Vec<String> = s
        .org_watches(10)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.org)
        .collect();
    assert_eq!(all, ["acme", "beta"], "by org id");
    assert_eq!(s.org_watches(1).await.unwrap().len(), 1);
    assert_eq!(s.org_watches(0).await.unwrap().len(), 1, "at least one");

    // Two replicas judging the same entries: the second records nothing new.
    let batch: Vec<NewAlert> = (0..3).map(alert).collect();
    assert_eq!(
        s.add_monitor_alerts(org.id, &batch).await.unwrap(),
        [0, 1, 2]
    );
    assert_eq!(
        s.add_monitor_alerts(org.id, &batch).await.unwrap(),
        Vec::<usize>::new()
    );
    // Another org records the same digests as its own.
    assert_eq!(
        s.add_monitor_alerts(other.id, &batch[..1]).await.unwrap(),
        [0]
    );
    // No log entry, and one past u32.
    let odd = [
        NewAlert {
            log_index: None,
            kind: "inconsistent-log".into(),
            ..alert(100_000)
        },
        NewAlert {
            log_index: Some(i64::from(u32::MAX) + 1),
            ..alert(100_001)
        },
    ];
    assert_eq!(s.add_monitor_alerts(org.id, &odd).await.unwrap(), [0, 1]);
    let got = s.monitor_alerts(org.id, None, 2).await.unwrap();
    assert_eq!(
        got.iter()
            .map(|a| (a.log_index, a.kind.as_str(), a.alert_json.as_str()))
            .collect::<Vec<_>>(),
        [
            (
                Some(i64::from(u32::MAX) + 1),
                "unexpected-issuer",
                "{\"log_index\": 100001}"
            ),
            (None, "inconsistent-log", "{\"log_index\": 100000}"),
        ],
        "newest first, field for field"
    );
    assert!(got[0].created_at > 1_700_000_000);

    // Past the bound the oldest go.
    let many: Vec<NewAlert> = (3..MAX_ALERTS_PER_ORG as usize + 10).map(alert).collect();
    s.add_monitor_alerts(org.id, &many).await.unwrap();
    let kept = s.monitor_alerts(org.id, None, u32::MAX).await.unwrap();
    assert_eq!(kept.len(), MAX_ALERTS_PER_ORG as usize);
    assert_eq!(
        kept[0].log_index,
        Some(i64::from(MAX_ALERTS_PER_ORG) + 9),
        "newest first"
    );
    assert!(kept.windows(2).all(|w| w[0].id > w[1].id));
    let page = s.monitor_alerts(org.id, Some(kept[1].id), 2).await.unwrap();
    assert_eq!(
        page.iter().map(|a| a.id).collect::<Vec<_>>(),
        [kept[2].id, kept[3].id]
    );
    assert_eq!(s.monitor_alerts(org.id, None, 0).await.unwrap().len(), 1);
    assert_eq!(
        s.monitor_alerts(other.id, None, 10).await.unwrap().len(),
        1,
        "the other org's alerts are not pruned by this one's"
    );

    // State: the first save from seq 0 wins, a second one from 0 is refused.
    assert!(s.save_watch_state(org.id, 0, "{\"a\":1}").await.unwrap());
    assert!(!s.save_watch_state(org.id, 0, "{\"b\":1}").await.unwrap());
    let w = s.org_watch(org.id).await.unwrap().unwrap();
    assert_eq!(
        (w.state_json.as_deref(), w.state_seq),
        (Some("{\"a\":1}"), 1)
    );
    // Changing the rules keeps the state.
    s.set_org_watch(org.id, "{\"rules\": [], \"first_signer\": true}", "p")
        .await
        .unwrap();
    let w = s.org_watch(org.id).await.unwrap().unwrap();
    assert_eq!(
        (
            w.rules_json.as_str(),
            w.updated_by.as_str(),
            w.state_json.as_deref(),
            w.state_seq
        ),
        (
            "{\"rules\": [], \"first_signer\": true}",
            "p",
            Some("{\"a\":1}"),
            1
        )
    );
    // A second process sees it all.
    let again = db.open().await;
    assert_eq!(again.org_watch(org.id).await.unwrap(), Some(w));
    assert_eq!(again.org_watches(10).await.unwrap().len(), 2);
}

/// Two replicas (two pools on one database) save the monitor state from the same read,
/// and record the same alerts, at the same time.
async fn replicas_racing_on_one_watch(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    let owner = a.create_user("o", None, None, false).await.unwrap();
    let org = a.create_org("acme", owner.id).await.unwrap();
    a.set_org_watch(org.id, "{}", "o").await.unwrap();
    for round in 0..20 {
        let seq = a.org_watch(org.id).await.unwrap().unwrap().state_seq;
        let (x, y) = tokio::join!(
            a.save_watch_state(org.id, seq, "{\"by\":\"a\"}"),
            b.save_watch_state(org.id, seq, "{\"by\":\"b\"}")
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!(x ^ y, "round {round}: exactly one save wins ({x}, {y})");
        let w = b.org_watch(org.id).await.unwrap().unwrap();
        assert_eq!(w.state_seq, seq + 1);
        let winner = if x {
            "{\"by\":\"a\"}"
        } else {
            "{\"by\":\"b\"}"
        };
        assert_eq!(w.state_json.as_deref(), Some(winner));
    }
    let batch: Vec<NewAlert> = (0..50).map(alert).collect();
    let (x, y) = tokio::join!(
        a.add_monitor_alerts(org.id, &batch),
        b.add_monitor_alerts(org.id, &batch)
    );
    let mut recorded = x.unwrap();
    recorded.extend(y.unwrap());
    recorded.sort_unstable();
    assert_eq!(
        recorded,
        (0..50).collect::<Vec<_>>(),
        "each alert recorded (and announced) by one replica"
    );
    assert_eq!(a.monitor_alerts(org.id, None, 100).await.unwrap().len(), 50);
}
