from timedify_ops.lib.telemetry import Recorder


def test_it_groups_observations_by_minute_series_and_labels():
    batches = []
    recorder = Recorder(batches.append, interval=0, clock=lambda: 120.5)
    recorder.observe("ingress", 3, (("outcome", "accepted"),))
    recorder.observe("ingress", 300, (("outcome", "accepted"),))
    recorder.observe("ingress", 4, (("outcome", "duplicate"),), at=59.9)
    recorder.count("received", (("topic", "a/b"),))
    recorder.count("received", (("topic", "a/b"),), 2)
    assert recorder.flush() == 3
    (batch,) = batches
    assert batch.histograms[(120, "ingress", (("outcome", "accepted"),))].count == 2
    assert batch.histograms[(0, "ingress", (("outcome", "duplicate"),))].count == 1
    assert batch.counters[("received", (("topic", "a/b"),))] == 3
    assert recorder.flush() == 0  # nothing new


def test_a_failed_flush_keeps_the_figures_for_the_next_one():
    calls = []

    def flaky(batch):
        calls.append(batch)
        if len(calls) == 1:
            raise ConnectionError("database down")

    recorder = Recorder(flaky, interval=0, clock=lambda: 0)
    recorder.observe("ingress", 5)
    assert recorder.flush() == 0
    recorder.observe("ingress", 7)
    assert recorder.flush() == 1
    assert calls[1].histograms[(0, "ingress", ())].count == 2


def test_the_background_thread_flushes_by_itself():
    import threading

    flushed = threading.Event()
    recorder = Recorder(lambda batch: flushed.set(), interval=0.05)
    recorder.observe("ingress", 1)
    assert flushed.wait(5)
    recorder.stop()
