//! The task graph: topological order, cycles and downstream sets.

use std::collections::{BTreeSet, HashMap};

use crate::spec::Pipeline;

/// Task indices in an order where every task comes after its upstreams; ties keep file order.
/// On a cycle, returns the task ids along it, first id repeated at the end.
pub fn topo_order(p: &Pipeline) -> Result<Vec<usize>, Vec<String>> {
    let index: HashMap<&str, usize> = p.tasks.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let n = p.tasks.len();
    let mut indegree = vec![0usize; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, t) in p.tasks.iter().enumerate() {
        for u in &t.upstream {
            if let Some(&j) = index.get(u.as_str()) {
                indegree[i] += 1;
                children[j].push(i);
            }
        }
    }
    // A BTreeSet as the ready queue keeps the order deterministic (lowest file position first).
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &c in &children[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                ready.insert(c);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(find_cycle(p, &index, &indegree))
}

/// Task indices in reading order for a notebook: every task after its upstreams, and each task
/// as soon after its last upstream as possible (depth first, siblings in file order), so a step
/// sits under the step it builds on. Tasks on a cycle come last, in file order.
pub fn reading_order(p: &Pipeline) -> Vec<usize> {
    let index: HashMap<&str, usize> = p.tasks.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let n = p.tasks.len();
    let mut waiting = vec![0usize; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, t) in p.tasks.iter().enumerate() {
        for u in &t.upstream {
            if let Some(&j) = index.get(u.as_str()) {
                waiting[i] += 1;
                children[j].push(i);
            }
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    // An explicit stack (children pushed in reverse) keeps deep chains off the call stack.
    let mut stack: Vec<usize> = (0..n).rev().filter(|&i| waiting[i] == 0).collect();
    while let Some(i) = stack.pop() {
        if done[i] {
            continue;
        }
        done[i] = true;
        order.push(i);
        for &c in children[i].iter().rev() {
            waiting[c] -= 1;
        }
        for &c in children[i].iter().rev() {
            if waiting[c] == 0 {
                stack.push(c);
            }
        }
    }
    order.extend((0..n).filter(|&i| !done[i]));
    order
}

/// Walks upstream edges among the tasks left with unmet dependencies until a task repeats.
fn find_cycle(p: &Pipeline, index: &HashMap<&str, usize>, indegree: &[usize]) -> Vec<String> {
    let start = indegree.iter().position(|&d| d > 0).expect("a cycle leaves a task with unmet dependencies");
    let mut path = vec![start];
    let mut cur = start;
    loop {
        let next = p.tasks[cur]
            .upstream
            .iter()
            .filter_map(|u| index.get(u.as_str()).copied())
            .find(|&j| indegree[j] > 0)
            .expect("a task in a cycle has an upstream in the cycle");
        if let Some(pos) = path.iter().position(|&x| x == next) {
            // The walk goes against the edges; reverse it so the message reads in data-flow order.
            let mut cycle: Vec<String> = path[pos..].iter().rev().map(|&i| p.tasks[i].id.clone()).collect();
            cycle.push(cycle[0].clone());
            return cycle;
        }
        path.push(next);
        cur = next;
    }
}

/// `roots` and every task downstream of them, by id.
pub fn downstream_closure(p: &Pipeline, roots: &[&str]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = roots.iter().map(|s| s.to_string()).collect();
    loop {
        let before = out.len();
        for t in &p.tasks {
            if t.upstream.iter().any(|u| out.contains(u)) {
                out.insert(t.id.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_order_puts_each_step_under_the_one_it_builds_on() {
        let dir = tempfile::tempdir().unwrap();
        // File order: a, b (reads a), c (reads b), d (reads a), e (reads a and d).
        let spec = r#"
[pipeline]
name = "p"
[[task]]
id = "a"
kind = "sql"
sql = "SELECT 1 AS x"
[[task]]
id = "b"
kind = "sql"
sql = "SELECT * FROM a"
[[task]]
id = "c"
kind = "sql"
sql = "SELECT * FROM b"
[[task]]
id = "d"
kind = "sql"
sql = "SELECT * FROM a"
[[task]]
id = "e"
kind = "sql"
sql = "SELECT * FROM a JOIN d USING (x)"
[[task]]
id = "b2"
kind = "sql"
sql = "SELECT * FROM b"
"#;
        let p = crate::spec::parse(dir.path(), spec).unwrap();
        let ids = |order: Vec<usize>| order.into_iter().map(|i| p.tasks[i].id.clone()).collect::<Vec<_>>();
        // Topological order breaks ties by file position: b2 lands at the end.
        assert_eq!(ids(topo_order(&p).unwrap()), ["a", "b", "c", "d", "e", "b2"]);
        // Reading order keeps b's children under b, and e waits for d.
        assert_eq!(ids(reading_order(&p)), ["a", "b", "c", "b2", "d", "e"]);
    }
}
