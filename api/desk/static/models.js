// The training job page follows its job: it asks the desk for the job's progress every second and shows
// the status, phase and percentage until the job has succeeded or failed. Loaded only by that page.
"use strict";

function followJob(box) {
  const url = box.dataset.jobProgress;
  const field = function (name) { return box.querySelector("[data-field=" + name + "]"); };
  const bar = box.querySelector("progress");

  function show(job) {
    field("status").textContent = job.status;
    field("phase").textContent = job.phase && !job.finished ? ", " + job.phase + " " + job.done + "/" + job.total : "";
    bar.value = job.percent;
    bar.textContent = job.percent + "%";
    field("percent").textContent = job.percent + "%";
    box.dataset.status = job.status;
    if (!job.finished) return;
    const outcome = field("outcome");
    outcome.textContent = "";
    if (job.status === "succeeded") {
      const link = document.createElement("a");
      link.href = "/models/" + job.model_version;
      link.textContent = job.model_version;
      outcome.append("Trained ", link, job.promoted ? ", now served" : ", not promoted",
                     job.reason ? ": " + job.reason + "." : ".");
    } else {
      outcome.textContent = "Failed: " + (job.error || "see the server log");
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (!job.finished) window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });  // a restarting server: try again a bit later
  }

  if (box.dataset.status !== "succeeded" && box.dataset.status !== "failed") poll();
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-job-progress]").forEach(followJob);
});
