"""Local emulation of the AWS pieces this project runs on (moto plus what moto lacks)."""
