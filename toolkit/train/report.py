"""Human lines for the terminal (numbers are formatted here and nowhere else)."""

from __future__ import annotations


def percent_or_number(key: str, value: float) -> str:
    """Metrics that are fractions print as percentages, losses as plain numbers."""
    return f"{value:.4f}" if key == "loss" else f"{value:.2%}"


def epoch_line(row: dict, metric: str, epochs: int) -> str:
    """One line per epoch: losses, main metric, lr, time and the diagnostics."""
    train, val = row["train"], row["val"]
    parts = [
        f"epoch {row['epoch']}/{epochs}",
        f"train loss {train['loss']:.4f} {metric} {train[metric]:.2%}",
        f"val loss {val['loss']:.4f} {metric} {val[metric]:.2%}",
        f"lr {row['lr']:.2e}",
        f"{row['time_s']:.1f}s",
    ]
    dead = row["diagnostics"]["dead_relu"]
    if dead is not None:
        parts.append(f"dead-relu {dead['fraction']:.1%}")
    grads = row["diagnostics"]["grad_norm"]
    if grads:
        low, high = grads["min"], grads["max"]
        parts.append(f"grad {low['layer']} {low['norm']:.1e} .. {high['layer']} {high['norm']:.1e}")
    return " | ".join(parts)


def final_line(results: dict, metric: str) -> str:
    """The run's outcome on the test split."""
    test = results["test"]
    return (
        f"test {metric} {test[metric]:.2%} (loss {test['loss']:.4f}, best epoch "
        f"{results['best_epoch']}, {results['time_s']:.0f}s) -> {results['run_dir']}"
    )
