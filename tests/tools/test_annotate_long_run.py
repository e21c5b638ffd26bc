"""The long-run benchmark's analysis: memory after the first 1,000 notes and at the end, notes/s per window."""

import os

from tools.annotate_long_run import analyse, cpu_seconds, results_markdown, rss_mib, worker_pids


def test_analysis_reads_memory_and_windows_from_the_samples():
    samples = [
        {"seconds": 0.0, "worker_cpu_seconds": 0.0, "load_average": 2.0, "notes": 0, "driver_rss_mib": 100.0, "worker_rss_mib": {}},
        {"seconds": 5.0, "worker_cpu_seconds": 1.0, "load_average": 2.0, "notes": 100, "driver_rss_mib": 100.0, "worker_rss_mib": {"11": 200.0, "12": 210.0}},
        {"seconds": 14.0, "worker_cpu_seconds": 10.0, "load_average": 2.0, "notes": 1000, "driver_rss_mib": 101.0, "worker_rss_mib": {"11": 300.0, "12": 310.0}},
        {"seconds": 24.0, "worker_cpu_seconds": 20.0, "load_average": 2.0, "notes": 2000, "driver_rss_mib": 102.0, "worker_rss_mib": {"11": 303.0, "12": 310.0}},
        {"seconds": 36.5, "worker_cpu_seconds": 30.0, "load_average": 2.0, "notes": 3000, "driver_rss_mib": 102.0, "worker_rss_mib": {"11": 306.0}},
    ]
    analysis = analyse(samples, 3000)
    assert analysis["worker_memory"]["11"] == {"after_first_window_mib": 300.0, "at_end_mib": 306.0, "at_end_notes": 3000,
                                               "change": 306.0 / 300.0 - 1}
    assert analysis["worker_memory"]["12"]["at_end_notes"] == 2000  # its last sample before it ended
    assert [w["notes_per_second"] for w in analysis["windows"]] == [100.0, 100.0, 80.0]  # the first from the first shard
    assert abs(analysis["throughput_change_max"] - 0.2) < 1e-9
    assert [w["notes_per_cpu_second"] for w in analysis["windows"]] == [100.0, 100.0, 100.0]
    assert analysis["cpu_throughput_change_max"] == 0.0
    table = results_markdown({"notes": 3000, "workers": 2, "shard_size": 100, "batch_size": 8, "ids_exactly_once": True,
                              "wall_seconds": 40.0, "analysis": analysis})
    assert "| 1 | 300.0 | 306.0 (at 3000 notes) | +2.0% |" in table and "| 2 | 310.0 | 310.0 (at 2000 notes) | +0.0% |" in table and "| 3000 | 80.0 | -20.0% | 100.0 | +0.0% | 2.0 |" in table


def test_memory_is_read_from_proc():
    assert rss_mib(os.getpid()) > 10 and rss_mib(2**22 + 1) is None
    assert worker_pids(os.getpid()) == [] and cpu_seconds(os.getpid()) > 0 and cpu_seconds(2**22 + 1) == 0.0
