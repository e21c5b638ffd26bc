"""The Ray backend on a local Ray instance (2 CPUs): same records as the local backend, resumable."""

import os

import pytest
from tests.util import small_settings

from clinical_ie.annotate import read_annotations, run_annotation

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_records(relation_pipeline, notes_dir, tmp_path_factory):
    """Records of the local backend with two worker processes (one thread each, like the actors)."""
    output = tmp_path_factory.mktemp("local")
    run_annotation(relation_pipeline, notes_dir, output, small_settings(workers=2))
    return list(read_annotations(output))


def test_ray_starts_a_local_instance_and_matches_the_local_backend(relation_pipeline, notes_dir, local_records, tmp_path, monkeypatch):
    assert not ray.is_initialized()
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
    summary = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(backend="ray", workers=2))
    assert not ray.is_initialized()  # the instance it started is shut down
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"  # and it sent no usage statistics
    assert summary.complete and summary.shards_written == 4 and summary.notes_failed == 4
    assert list(read_annotations(tmp_path)) == local_records
    assert 1 <= len(summary.worker_peak_rss_mib) <= 2 and str(os.getpid()) not in summary.worker_peak_rss_mib


@pytest.fixture
def ray_cluster():
    """A running local Ray instance with 2 CPUs, as a cluster the command joins."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_resumes_a_stopped_local_run_into_parquet(relation_pipeline, notes_dir, local_records, tmp_path, ray_cluster):
    first = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="parquet", max_shards=1))
    assert not first.complete
    second = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(backend="ray", workers=2, output_format="parquet"))
    assert ray.is_initialized()  # a cluster it joined stays up
    assert second.complete and second.notes_done_before == 5 and second.shards_written == 3
    assert list(read_annotations(tmp_path)) == local_records
