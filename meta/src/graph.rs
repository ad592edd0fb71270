//! Cycle detection among `upstream` edges.

use std::collections::HashMap;

/// Finds one cycle in the graph where each task points at its upstream tasks.
///
/// Returns the ids along the cycle with the first repeated at the end (`a → b → a`), or `None`
/// when the graph is acyclic. Edges to ids missing from `tasks` are ignored: they are reported
/// as unknown upstreams elsewhere.
pub fn find_cycle<'a, S: AsRef<str>>(tasks: &[(&'a str, &'a [S])]) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnPath,
        Done,
    }
    let index: HashMap<&str, usize> = tasks.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
    let mut marks = vec![Mark::Unvisited; tasks.len()];
    // Iterative depth-first search so that a long chain cannot overflow the stack.
    for root in 0..tasks.len() {
        if marks[root] != Mark::Unvisited {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::OnPath;
        while let Some((node, next_edge)) = path.last_mut() {
            let node = *node;
            let edges = tasks[node].1;
            if let Some(up) = edges.get(*next_edge) {
                *next_edge += 1;
                let Some(&up) = index.get(up.as_ref()) else { continue };
                match marks[up] {
                    Mark::OnPath => {
                        let start = path.iter().position(|(n, _)| *n == up).unwrap_or(0);
                        let mut cycle: Vec<&str> = path[start..].iter().map(|(n, _)| tasks[*n].0).collect();
                        cycle.push(tasks[up].0);
                        return Some(cycle);
                    }
                    Mark::Unvisited => {
                        marks[up] = Mark::OnPath;
                        path.push((up, 0));
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                path.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ups(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn acyclic_graph_has_no_cycle() {
        let (a, b, c) = (ups(&[]), ups(&["a"]), ups(&["a", "b", "missing"]));
        assert_eq!(find_cycle(&[("a", &a), ("b", &b), ("c", &c)]), None);
    }

    #[test]
    fn reports_the_cycle_path() {
        let (a, b, c) = (ups(&["c"]), ups(&["a"]), ups(&["b"]));
        assert_eq!(find_cycle(&[("a", &a), ("b", &b), ("c", &c)]), Some(vec!["a", "c", "b", "a"]));
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let a = ups(&["a"]);
        assert_eq!(find_cycle(&[("a", &a)]), Some(vec!["a", "a"]));
    }
}
