/**
 * An example of reusing portcullis from another Dagger module: a release module that keeps the
 * security gate's verdict, reports and SBOM, and publishes only what portcullis let through.
 */
import { argument, Container, dag, Directory, File, func, object, Secret } from "@dagger.io/dagger";

/** Patterns left out of the service directory, as portcullis itself does. */
const SOURCE_IGNORE = [".git", "**/node_modules", "**/__pycache__", "**/.venv", "reports", "out"];

@object()
export class Consumer {
  /**
   * The portcullis reports (SARIF, Markdown, JSON, JUnit) for a service, whatever the gate decided.
   *
   * @param source The service: its code and Dockerfile (default: this module's context).
   * @param policy A portcullis policy YAML (optional; default: portcullis' default policy).
   */
  @func()
  reports(@argument({ defaultPath: "/", ignore: SOURCE_IGNORE }) source: Directory, policy?: File): Directory {
    return dag.portcullis().pipeline({ source, policy }).reports();
  }

  /**
   * Judges the service and publishes its image only after a pass; returns `address@sha256:…`.
   * On fail or error it throws with portcullis' own summary of the verdict.
   *
   * @param source The service: its code and Dockerfile (default: this module's context).
   * @param address Where to publish, e.g. registry.example.com/team/app:1.2.3.
   * @param username Registry user (optional; default: the engine's own credentials).
   * @param password Registry password or token (optional; required with username).
   */
  @func()
  async release(
    @argument({ defaultPath: "/", ignore: SOURCE_IGNORE }) source: Directory,
    address: string,
    username?: string,
    password?: Secret,
  ): Promise<string> {
    const run = dag.portcullis().pipeline({ source });
    const outcome = await run.outcome();
    if (outcome !== "pass") {
      throw new Error(`portcullis: ${outcome}, so ${address} is not published\n${await run.summary()}`);
    }
    // portcullis checks again and refuses anything that did not pass; both calls share one cached run.
    return run.publish(address, { username, password });
  }

  /**
   * The CycloneDX SBOM of the image portcullis built and scanned, to attach to a release.
   *
   * @param source The service: its code and Dockerfile (default: this module's context).
   */
  @func()
  sbom(@argument({ defaultPath: "/", ignore: SOURCE_IGNORE }) source: Directory): File {
    return dag.portcullis().pipeline({ source }).scan().sbom();
  }

  /**
   * The built image, judged or not, for callers that run their own tests on it before releasing.
   *
   * @param source The service: its code and Dockerfile (default: this module's context).
   */
  @func()
  image(@argument({ defaultPath: "/", ignore: SOURCE_IGNORE }) source: Directory): Container {
    return dag.portcullis().pipeline({ source }).image();
  }
}
