"""The admin's commands: `simscan check | config | stats | quarantine`.

bin/simscan sends a first argument that names one of these here, and
everything else to simscan.cli: the per-message path never imports this
package, argparse or anything the commands need.
"""
