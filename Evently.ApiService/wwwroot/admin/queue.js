// The on-sale panel of the admin page: GET /api/events/{id}/queue every second while an event is watched.
// Uses get() and $() from admin.js.
"use strict";

const QUEUE_POLL_MS = 1000;
let queueWatch = null;

function showQueue(report) {
  $("queue-pre-queued").textContent = number.format(report.preQueued);
  $("queue-queued").textContent = number.format(report.queued);
  $("queue-answered").textContent = number.format(report.answered);
  $("queue-confirmed").textContent = number.format(report.confirmed);
  $("queue-rejected").textContent = number.format(report.rejected);
  $("queue-rate").textContent = report.drainRate == null ? "–" : number.format(Math.round(report.drainRate));
  $("queue-oldest").textContent = report.oldestWaitSeconds == null ? "–" : `${report.oldestWaitSeconds.toFixed(1)} s`;
  $("queue-note").textContent = report.opensAt && !report.opened
    ? `The sale opens at ${new Date(report.opensAt).toLocaleString()}: the pre-queue is shuffled then.`
    : report.opened ? "The pre-queue was shuffled at the opening; later arrivals queue first come, first served."
    : "No pre-queue: requests queue first come, first served.";
  $("queue-figures").dataset.updatedAt = new Date().toISOString();
}

async function pollQueue(id, watch) {
  while (queueWatch === watch) {
    try {
      showQueue((await get(`/api/events/${encodeURIComponent(id)}/queue`)).body);
      $("queue-status").textContent = `Watching event ${id}.`;
    } catch (error) {
      $("queue-status").textContent = error.status === 404 ? `There is no event ${id}.` : error.message;
      if (error.status === 404 || error.status === 401) {
        queueWatch = null;
        return;
      }
    }
    await new Promise(resolve => setTimeout(resolve, QUEUE_POLL_MS));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("queue-form").addEventListener("submit", event => {
    event.preventDefault();
    const id = $("queue-event-id").value;
    if (id) {
      queueWatch = {};
      pollQueue(id, queueWatch);
    }
  });
  $("logout").addEventListener("click", () => { queueWatch = null; });
});
