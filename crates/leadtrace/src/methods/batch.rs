//! `batch`: up to 50 `method?query` commands run in order through the same dispatch as direct
//! calls, with `$result[...]`-style references between them (spec/limits-and-batch.md §4).

use crate::registry::{self, Call, Registry, Scope};
use bx_wire::batch::{split_command, substitute, CommandOutput};
use bx_wire::envelope::php_array;
use bx_wire::{names, php, ApiError, Output};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const MAX_COMMANDS: usize = 50;
/// The whole batch's execution budget; commands not started by then are answered as errors.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// Methods that may not run inside a batch.
const NOT_BATCHABLE: [&str; 3] = ["batch", "download", "upload"];

pub fn register(r: &mut Registry) {
    r.insert(
        "batch",
        Scope::Basic,
        false,
        Arc::new(|call| Box::pin(batch(call))),
    );
}

/// The five per-command maps of a batch answer, in command order.
#[derive(Default)]
struct Maps {
    result: Vec<(String, Value)>,
    error: Vec<(String, Value)>,
    total: Vec<(String, Value)>,
    next: Vec<(String, Value)>,
    time: Vec<(String, Value)>,
}

async fn batch(call: Call) -> Result<Output, ApiError> {
    let halt = names::any_case(&call.params, "halt")
        .map(php::truthy)
        .unwrap_or(false);
    let commands: Vec<(String, Value)> = match names::any_case(&call.params, "cmd") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.clone()))
            .collect(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    };
    let started = Instant::now();
    let offset = call.caller.offset();
    let mut maps = Maps::default();
    let mut outputs: HashMap<String, CommandOutput> = HashMap::new();

    for (index, (key, command)) in commands.into_iter().enumerate() {
        let outcome = if index >= MAX_COMMANDS {
            Err(ApiError::coded(
                "ERROR_BATCH_LENGTH_EXCEEDED",
                "Max batch length exceeded",
                400,
            ))
        } else if started.elapsed() > TIMEOUT {
            Err(ApiError::Internal)
        } else {
            run_command(&call, &command, &outputs).await
        };
        match outcome {
            Ok((out, time)) => {
                let time = time.to_value(offset);
                maps.result.push((key.clone(), out.result.clone()));
                if let Some(total) = out.total {
                    maps.total.push((key.clone(), json!(total)));
                }
                if let Some(next) = out.next {
                    maps.next.push((key.clone(), json!(next)));
                }
                maps.time.push((key.clone(), time.clone()));
                outputs.insert(
                    key,
                    CommandOutput {
                        result: Some(out.result),
                        next: out.next.map(|n| json!(n)),
                        total: out.total.map(|t| json!(t)),
                        time: Some(time),
                        error: None,
                    },
                );
            }
            Err(e) => {
                maps.error.push((key.clone(), e.body()));
                outputs.insert(
                    key,
                    CommandOutput {
                        error: Some(e.body()),
                        ..Default::default()
                    },
                );
                if halt {
                    break;
                }
            }
        }
    }
    Ok(json!({
        "result": php_array(maps.result),
        "result_error": php_array(maps.error),
        "result_total": php_array(maps.total),
        "result_next": php_array(maps.next),
        "result_time": php_array(maps.time),
    })
    .into())
}

async fn run_command(
    call: &Call,
    command: &Value,
    outputs: &HashMap<String, CommandOutput>,
) -> Result<(Output, bx_wire::envelope::Time), ApiError> {
    let Value::String(command) = command else {
        return Err(ApiError::core("Wrong batch command format"));
    };
    let (name, query) = split_command(command);
    if NOT_BATCHABLE.contains(&name.as_str()) {
        return Err(ApiError::coded(
            "ERROR_BATCH_METHOD_NOT_ALLOWED",
            "Method is not allowed for batch usage",
            400,
        ));
    }
    let method = call
        .state
        .registry()
        .get(&name)
        .ok_or(ApiError::MethodNotFound)?;
    if !method.batchable {
        return Err(ApiError::coded(
            "ERROR_BATCH_METHOD_NOT_ALLOWED",
            "Method is not allowed for batch usage",
            400,
        ));
    }
    if !method.scope.granted(&call.caller.scopes) {
        return Err(ApiError::InsufficientScope {
            oauth: call.caller.is_oauth(),
        });
    }
    let mut params = php::parse_str(&query)?;
    // The outer request's credentials apply; credentials inside a command are ignored.
    crate::auth::strip_reserved(&mut params);
    substitute(&mut params, outputs);
    let (outcome, time) = registry::invoke(&call.state, &call.caller, method, params).await;
    outcome.map(|out| (out, time))
}
